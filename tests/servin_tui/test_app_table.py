"""The live table on its own: a first fill in one batch, sorted, and columns
as wide as their cells in every frame, including one painted before the
table measured its new rows (which real launches do now and then)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from servin_tui.app.rows import Row
from servin_tui.app.table import LiveTable

COLUMNS = (("id", "ID"), ("name", "NAMES"))


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LiveTable(COLUMNS, sort_column="name", sort_reverse=True)


def row(n: int, name: str | None = None) -> Row:
    return Row(f"key-{n}", f"key-{n}", (f"{n:012d}", name or f"bench-{n:05d}"))


def shown(table: LiveTable, y: int) -> str:
    """Line ``y`` of the table as a frame painted now would show it."""
    return table.render_line(y).text


async def test_the_first_frame_shows_whole_cells() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(LiveTable)
        await pilot.pause()

        table.replace_all(row(n) for n in range(200))
        # Painted before the table had a moment of idleness to measure.
        first = shown(table, 1)
        await pilot.pause()

        assert "000000000199" in first and "bench-00199" in first
        assert "…" not in first
        assert shown(table, 1) == first


async def test_a_longer_cell_widens_its_column_in_the_next_frames() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.replace_all([row(1, "a"), row(2, "b")])
        await pilot.pause()

        table.replace_owner("key-2", [row(2, "a-much-longer-name")])
        shown(table, 1)  # a frame painted before the widths were measured
        await pilot.pause()

        assert "a-much-longer-name" in shown(table, 1)


async def test_a_batch_is_sorted_once_and_keeps_cursor_and_marks() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.replace_all(row(n) for n in (3, 1, 2))
        await pilot.pause()

        assert table.visible_keys() == ["key-3", "key-2", "key-1"]
        current = table.current()
        assert current is not None and current.key == "key-3"

        await pilot.press("down", "space")
        table.replace_all(row(n) for n in (5, 4, 3, 2, 1))
        await pilot.pause()

        assert table.visible_keys() == [f"key-{n}" for n in (5, 4, 3, 2, 1)]
        assert table.marks == {"key-2"}
        current = table.current()
        assert current is not None and current.key == "key-1"


async def test_cells_wide_and_odd_characters_are_drawn_whole() -> None:
    app = TableApp()
    async with app.run_test(size=(80, 12)) as pilot:
        table = app.query_one(LiveTable)
        table.replace_all(
            [row(1, "日本語の名前"), row(2, "bell\x07name"), row(3, "plain")]
        )
        await pilot.pause()

        lines = [shown(table, y) for y in (1, 2, 3)]
        assert "日本語の名前" in lines[0]
        # Control codes are dropped, as rich.Text drops them.
        assert "bellname" in lines[2] and "\x07" not in lines[2]
        assert "plain" in lines[1]
        assert all("…" not in line for line in lines)
