"""The log viewer against real containers: following, pausing, the search
and its filter, saving, and two containers' logs interleaved."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from app_harness import RecordingApp, make_app, root_config, until
from textual.pilot import Pilot
from textual.widgets import Input, Label, RichLog

from servin_core.config import Config
from servin_core.containers import lifecycle
from servin_core.containers.model import Container, ContainerConfig
from servin_core.core import Core
from servin_core.errors import NotFound
from servin_core.images.importer import import_image
from servin_tui.app.containers import ContainersPanel
from servin_tui.app.dialogs import PromptDialog
from servin_tui.app.logs import LogScreen

TICKS = "i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.1; done"
FRUIT = (
    "echo apple pie; echo banana; echo Apple tart >&2; echo cherry;"
    " trap 'exit 0' TERM; while true; do sleep 0.1; done"
)

Run = Callable[[str, str], Awaitable[Container]]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
async def run(config: Config, busybox_rootfs_tar: Path) -> AsyncIterator[Run]:
    """Runs ``sh -c SCRIPT`` in a new container named NAME; removes every
    container it ran at the end."""
    made: list[Container] = []
    with Core.open(config) as core:
        with busybox_rootfs_tar.open("rb") as source:
            await import_image(core, source, "box:1")

        async def start(name: str, script: str) -> Container:
            config = ContainerConfig(image="box:1", cmd=["sh", "-c", script])
            container = await lifecycle.create(core, config, name=name)
            made.append(container)
            return await lifecycle.start(core, container.id)

        yield start
        for container in made:
            with contextlib.suppress(NotFound):
                await lifecycle.remove(core, container.id, force=True)


async def open_logs(pilot: Pilot[None], app: RecordingApp, marks: int) -> LogScreen:
    """Mark ``marks`` rows (none: the cursor's) and press ``l``."""
    panel = app.query_one(ContainersPanel)
    await until(pilot, lambda: panel.table.row_count >= max(marks, 1), "the rows")
    await pilot.press(*["space"] * marks, "l")
    await until(pilot, lambda: isinstance(app.screen, LogScreen), "the logs")
    screen = app.screen
    assert isinstance(screen, LogScreen)
    return screen


def ticks(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"^tick (\d+)$", text, re.MULTILINE)]


def title(screen: LogScreen) -> str:
    return str(screen.query_one("#title", Label).render())


async def test_logs_follow_new_lines_and_pause_holds_them(
    config: Config, run: Run
) -> None:
    await run("ticker", TICKS)
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        logs = await open_logs(pilot, app, 0)
        await until(pilot, lambda: ticks(logs.shown_text()), "the first ticks")
        seen = max(ticks(logs.shown_text()))
        await until(
            pilot, lambda: seen + 3 in ticks(logs.shown_text()), "later ticks drawn"
        )
        drawn = [strip.text.rstrip() for strip in logs.query_one(RichLog).lines]
        assert drawn == logs.shown_text().splitlines()

        await pilot.press("p")
        frozen = logs.shown_text()
        last = max(ticks(frozen))
        await until(pilot, lambda: last + 3 in ticks(logs.text()), "lines held")
        assert logs.shown_text() == frozen
        assert "paused" in title(logs)
        assert f"{logs.held} new lines held" in title(logs)

        await pilot.press("p")
        await pilot.pause()
        resumed = ticks(logs.shown_text())
        assert resumed[: len(ticks(frozen))] == ticks(frozen)
        assert last + 3 in resumed
        assert resumed == sorted(resumed)
        assert "following" in title(logs)


async def test_search_highlights_filter_narrows_and_save_writes_what_is_shown(
    config: Config, run: Run, tmp_path: Path
) -> None:
    await run("fruit", FRUIT)
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        logs = await open_logs(pilot, app, 0)
        await until(pilot, lambda: "cherry" in logs.text(), "all four lines")

        await pilot.press("slash", *"apple", "enter")
        await until(pilot, lambda: "2 lines" in title(logs), "the matches counted")
        log = logs.query_one(RichLog)
        highlighted = {
            segment.text
            for strip in log.lines
            for segment in strip
            if segment.style is not None and segment.style.reverse
        }
        assert highlighted == {"apple", "Apple"}
        # Enter jumped to the first match, which pauses following.
        assert logs.paused

        await pilot.press("f")
        await until(pilot, lambda: len(logs.shown) == 2, "the filter")
        assert sorted(logs.shown_text().splitlines()) == ["Apple tart", "apple pie"]

        saved = tmp_path / "saved.log"
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog), "the prompt")
        app.screen.query_one(Input).value = str(saved)
        await pilot.press("enter")
        await until(pilot, saved.exists, "the file")
        assert saved.read_text() == logs.shown_text()
        assert sorted(saved.read_text().splitlines()) == ["Apple tart", "apple pie"]

        await pilot.press("f")
        await until(pilot, lambda: len(logs.shown) == 4, "the filter off")


async def test_two_containers_interleave_by_time_with_tags(
    config: Config, run: Run
) -> None:
    script = "for i in 1 2 3 4; do echo {name}-$i; sleep 0.3; done"
    await run("north", script.format(name="north"))
    await run("south", script.format(name="south"))
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        logs = await open_logs(pilot, app, 2)
        await until(pilot, lambda: logs.ended == 2, "both logs complete")
        await until(pilot, lambda: len(logs.shown) == 8, "eight lines drawn")

        times = [entry.time for entry, _ in logs.shown]
        assert times == sorted(times)
        lines = logs.shown_text().splitlines()
        for name in ("north", "south"):
            mine = [line for line in lines if line.startswith(f"{name} │ ")]
            assert [line.split(" │ ")[1] for line in mine] == [
                f"{name}-{i}" for i in (1, 2, 3, 4)
            ]
        tag_styles = {
            segment.text.strip(): segment.style
            for strip in logs.query_one(RichLog).lines
            for segment in strip
            if segment.text.strip() in ("north", "south")
        }
        assert tag_styles["north"] != tag_styles["south"]
        assert "all stopped" in title(logs)
