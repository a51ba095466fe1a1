"""A table of core objects that changes row by row.

The table keeps every row it was given (its model) and shows those that
match the filter, in the chosen order. Changes arrive one object at a time
(from events), and only the cells that differ are redrawn, so the cursor and
the marks stay where the user left them: both follow row keys, not
positions.

Two things lean on DataTable's insides, both for the first paint of a long
list: rows are added in one batch (``add_row`` re-checks the cursor and asks
for a new layout per row, about a millisecond each at 1,000 rows), and a
change of column widths invalidates the rows already rendered (DataTable
measures widths when idle but keys its render caches on its update count, so
a frame painted in between stayed cut to the headers' widths).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.console import Console, ConsoleOptions
from rich.measure import Measurement
from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets._data_table import Row as TableRow
from textual.widgets._data_table import RowKey

from servin_tui.app.rows import Row

__all__ = ["LiveTable"]

_MARK = "mark"
_MARKED = "*"


class _Cell:
    """A cell's text, with the value sorting compares.

    Not a ``rich.Text``: a table of 1,000 rows has 7,000 cells, and a Text
    costs several times more to make (it strips control codes, keeps spans)
    and to render (it wraps and joins lines) than one plain line needs. A
    cell with characters that are not printable is drawn by a Text, as
    before.
    """

    __slots__ = ("plain", "sort_key")

    def __init__(self, plain: str, sort_key: Any) -> None:
        self.plain = plain
        self.sort_key = sort_key

    def __rich_console__(
        self, console: Console, options: ConsoleOptions
    ) -> Iterator[Segment | Text]:
        plain = self.plain
        if not plain.isprintable():
            yield Text(plain, no_wrap=True, overflow="ellipsis", end="")
            return
        width = options.max_width
        if (len(plain) > width or not plain.isascii()) and cell_len(plain) > width:
            plain = set_cell_size(plain, max(width - 1, 0)) + "…" if width else ""
        yield Segment(plain)

    def __rich_measure__(
        self, console: Console, options: ConsoleOptions
    ) -> Measurement:
        width = _width(self)
        return Measurement(width, width)


class LiveTable(DataTable[Any]):
    """Rows of objects; space marks rows, ``o``/``O`` choose the order."""

    BINDINGS = [
        Binding("space", "toggle_mark", "Mark"),
        Binding("o", "sort_next", "Sort", show=False),
        Binding("O", "sort_reverse", "Reverse", show=False),
    ]

    DEFAULT_CSS = """
    LiveTable {
        height: 1fr;
    }
    """

    class MarksChanged(Message):
        """The set of marked rows changed."""

    def __init__(
        self,
        columns: Sequence[tuple[str, str]],
        *,
        sort_column: str | None = None,
        sort_reverse: bool = False,
        markable: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.markable = markable
        """Whether space marks rows (not in a list with nothing to act on)."""
        self._columns = [key for key, _ in columns]
        self._labels = dict(columns)
        self._model: dict[str, Row] = {}
        self._filter = ""
        self.marks: set[str] = set()
        self.sort_column = sort_column
        self.sort_reverse = sort_reverse

    def on_mount(self) -> None:
        self.add_column(" ", key=_MARK, width=1)
        for key in self._columns:
            self.add_column(self._labels[key], key=key)
        self._show_sort_in_header()

    # What the panels read

    @property
    def model(self) -> dict[str, Row]:
        return self._model

    def visible_keys(self) -> list[str]:
        """Keys of the rows shown, top to bottom."""
        return [
            str(row_key.value)
            for row_key in self._ordered_row_keys()
            if row_key.value is not None
        ]

    def current(self) -> Row | None:
        """The row under the cursor."""
        if not self.row_count:
            return None
        row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return self._model.get(str(row_key.value))

    def chosen(self) -> list[Row]:
        """The marked rows, or else the row under the cursor."""
        if self.marks:
            return [
                self._model[key] for key in self.visible_keys() if key in self.marks
            ]
        row = self.current()
        return [row] if row is not None else []

    # Changes

    def replace_all(self, rows: Iterable[Row]) -> None:
        new = {row.key: row for row in rows}
        gone = [key for key in self._model if key not in new]
        self.apply(new.values(), gone)

    def replace_owner(self, owner: str, rows: Iterable[Row]) -> None:
        """Make ``rows`` the rows of object ``owner`` (none: it is gone)."""
        new = {row.key: row for row in rows}
        gone = [k for k, r in self._model.items() if r.owner == owner and k not in new]
        self.apply(new.values(), gone)

    def apply(self, upserts: Iterable[Row], removals: Iterable[str]) -> None:
        """Add or change ``upserts`` and drop ``removals``, keeping the cursor
        on the row it was on."""
        keep = self.current()
        changed_order = False
        marks_before = len(self.marks)

        for key in removals:
            self._model.pop(key, None)
            self.marks.discard(key)
            if key in self.rows:
                self.remove_row(key)

        added: list[Row] = []
        for row in upserts:
            self._model[row.key] = row
            shown = row.key in self.rows
            if not self._matches(row):
                if shown:
                    self.remove_row(row.key)
                continue
            if shown:
                changed_order |= self._update(row)
            else:
                added.append(row)
        if added:
            self._add_batch(added)
            changed_order = True

        if changed_order:
            self._sort()
        self._restore_cursor(keep)
        if len(self.marks) != marks_before:
            self.post_message(self.MarksChanged())

    def set_filter(self, text: str) -> None:
        """Show only rows with ``text`` in one of their cells (any case)."""
        self._filter = text.casefold()
        self.apply(list(self._model.values()), [])

    # Actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False also hides the key from the footer.
        return self.markable or action != "toggle_mark"

    def action_toggle_mark(self) -> None:
        row = self.current()
        if row is None or not self.markable:
            return
        self.marks.symmetric_difference_update({row.key})
        self.update_cell(row.key, _MARK, self._mark_cell(row.key))
        self.post_message(self.MarksChanged())
        if self.cursor_row < self.row_count - 1:
            self.move_cursor(row=self.cursor_row + 1)

    def clear_marks(self) -> None:
        marked, self.marks = self.marks, set()
        for key in marked:
            if key in self.rows:
                self.update_cell(key, _MARK, self._mark_cell(key))
        if marked:
            self.post_message(self.MarksChanged())

    def action_sort_next(self) -> None:
        """Order by the next column (the first after the last)."""
        if self.sort_column in self._columns:
            at = self._columns.index(self.sort_column) + 1
        else:
            at = 0
        self.sort_column = self._columns[at % len(self._columns)]
        self.sort_reverse = False
        self._resort()

    def action_sort_reverse(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._resort()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        key = str(event.column_key.value)
        if key == _MARK:
            return
        if key == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = key, False
        self._resort()

    # Inside

    def _add_batch(self, rows: Sequence[Row]) -> None:
        """Append ``rows`` in one step: what ``add_row`` does for each,
        with one cursor check and one layout for them all."""
        was_empty = self.row_count == 0
        columns = self.ordered_columns
        column_keys = [column.key for column in columns]
        widths = [column.content_width for column in columns]
        at = self.row_count
        for row in rows:
            key = RowKey(row.key)
            cells = self._cells(row)
            self._row_locations[key] = at
            self._data[key] = dict(zip(column_keys, cells, strict=True))
            self.rows[key] = TableRow(key, 1)
            widths = [max(w, _width(c)) for w, c in zip(widths, cells, strict=True)]
            at += 1

        # Measured now rather than when idle, so that whichever frame is
        # painted first shows the columns at their widths; and by the cells'
        # lengths, not through Rich's measure (about 0.1 ms a cell), since
        # every cell is one line of plain text.
        for column, width in zip(columns, widths, strict=True):
            if column.auto_width:
                column.content_width = width
        self._update_dimensions([])  # the virtual size, for the scrollbars
        self._update_count += 1
        self.cursor_coordinate = self.cursor_coordinate
        if was_empty and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self.refresh(layout=True)
        self.check_idle()

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        widths = self._widths()
        super()._update_dimensions(new_rows)
        self._redraw_if_resized(widths)

    def _update_column_widths(self, updated_cells: set[Any]) -> None:
        widths = self._widths()
        super()._update_column_widths(updated_cells)
        self._redraw_if_resized(widths)

    def _widths(self) -> list[int]:
        return [column.content_width for column in self.ordered_columns]

    def _redraw_if_resized(self, widths: list[int]) -> None:
        """Drop rows rendered at the old widths: DataTable's caches are keyed
        on its update count, which measuring widths does not change."""
        if self._widths() != widths:
            self._update_count += 1
            self.refresh()

    def _resort(self) -> None:
        keep = self.current()
        self._sort()
        self._restore_cursor(keep)
        self._show_sort_in_header()

    def _show_sort_in_header(self) -> None:
        for key in self._columns:
            label = self._labels[key]
            if key == self.sort_column:
                label += " ▼" if self.sort_reverse else " ▲"
            self.columns[self._column_key(key)].label = Text(label)
        self.refresh()

    def _column_key(self, key: str) -> Any:
        return next(k for k in self.columns if k.value == key)

    def _sort(self) -> None:
        if self.sort_column is None:
            return
        self.sort(self.sort_column, key=_sort_key, reverse=self.sort_reverse)

    def _restore_cursor(self, keep: Row | None) -> None:
        if keep is None or keep.key not in self.rows:
            return
        index = self.get_row_index(keep.key)
        if index != self.cursor_row:
            self.move_cursor(row=index, animate=False, scroll=False)

    def _matches(self, row: Row) -> bool:
        needle = self._filter
        return not needle or any(needle in cell.casefold() for cell in row.cells)

    def _cells(self, row: Row) -> list[_Cell]:
        keys = row.sort_keys or ()
        cells = [self._mark_cell(row.key)]
        for at, text in enumerate(row.cells):
            sort_key = keys[at] if at < len(keys) and keys[at] is not None else text
            cells.append(_Cell(text, sort_key))
        return cells

    def _mark_cell(self, key: str) -> _Cell:
        return _Cell(_MARKED if key in self.marks else "", 0)

    def _update(self, row: Row) -> bool:
        """Redraw the cells of ``row`` that changed; True if the changed
        cells include the sort column."""
        resort = False
        new = self._cells(row)[1:]
        old = self.get_row(row.key)[1:]
        for key, before, after in zip(self._columns, old, new, strict=True):
            if before.plain != after.plain or _sort_key(before) != _sort_key(after):
                self.update_cell(row.key, key, after, update_width=True)
                resort |= key == self.sort_column
        return resort

    def _ordered_row_keys(self) -> list[Any]:
        return [row.key for row in self.ordered_rows]


def _width(cell: _Cell) -> int:
    """The cells a one-line text takes (the longest line, if it has more)."""
    plain = cell.plain
    if plain.isascii() and plain.isprintable():
        return len(plain)  # one cell each
    return max(map(cell_len, plain.split("\n")))


def _sort_key(cell: Any) -> Any:
    return cell.sort_key if isinstance(cell, _Cell) else str(cell)
