"""The app driven by Textual's ``run_test``, timed to the frame.

Headless, Textual still lays the screen out and renders every changed line
(only the writing to a terminal is skipped), so the moment the compositor
hands a frame to ``App._display`` is the moment the frame is painted. The
app here notes that moment and checks, on each frame, whether the screen now
shows what the benchmark waits for (all the rows; the cursor one row down;
the new order; the other panel): the first frame that does ends the timing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from rich.console import RenderableType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import TabbedContent

from servin_core.config import Config
from servin_tui.app.app import ServinApp
from servin_tui.app.containers import ContainersPanel
from servin_tui.app.local import LocalBackend
from servin_tui.app.table import LiveTable

__all__ = ["KEYS", "SIZE", "launch_once"]

SIZE = (160, 50)
"""The terminal's columns and lines, headless and in tmux alike."""

_TIMEOUT = 120.0
Condition = Callable[[], bool]


class _TimedApp(ServinApp):
    """The app, telling when a frame first shows what is expected."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._expected: tuple[Condition, asyncio.Future[float]] | None = None

    def expect(self, condition: Condition) -> asyncio.Future[float]:
        """A future set to the ``perf_counter`` time of the first frame
        painted while ``condition()`` holds."""
        future = asyncio.get_running_loop().create_future()
        self._expected = (condition, future)
        return future

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        super()._display(screen, renderable)
        if renderable is None or self._expected is None:
            return
        condition, future = self._expected
        if condition():
            self._expected = None
            future.set_result(time.perf_counter())

    def containers(self) -> ContainersPanel | None:
        try:
            return self.query_one("#containers", ContainersPanel)
        except NoMatches:
            return None

    def rows(self) -> int:
        panel = self.containers()
        return panel.table.row_count if panel is not None else -1

    def active(self) -> str:
        return self.query_one(TabbedContent).active


def _cursor_down(app: _TimedApp) -> Condition:
    table = _table(app)
    row = table.cursor_row
    return lambda: table.cursor_row == row + 1


def _sort_next(app: _TimedApp) -> Condition:
    table = _table(app)
    column = table.sort_column
    return lambda: table.sort_column != column


def _sort_reverse(app: _TimedApp) -> Condition:
    table = _table(app)
    reverse = table.sort_reverse
    return lambda: table.sort_reverse != reverse


def _images(app: _TimedApp) -> Condition:
    return lambda: app.active() == "tab-images"


def _containers(app: _TimedApp) -> Condition:
    return lambda: app.active() == "tab-containers"


def _table(app: _TimedApp) -> LiveTable:
    panel = app.containers()
    assert panel is not None
    return panel.table


KEYS: list[tuple[str, str, Callable[[_TimedApp], Condition]]] = [
    ("down", "down", _cursor_down),
    ("sort", "o", _sort_next),
    ("reverse", "O", _sort_reverse),
    ("to images", "2", _images),
    ("to containers", "1", _containers),
]
"""Each measured key: its label, the key, and what its frame shows, made
from the state before the key."""


async def launch_once(config: Config, count: int) -> tuple[float, dict[str, float]]:
    """Seconds from opening the core to the first frame with all ``count``
    rows, and from each key in :data:`KEYS` to the frame that shows it."""
    start = time.perf_counter()
    app = _TimedApp(LocalBackend.open(config))
    painted = app.expect(lambda: app.rows() == count)
    keys: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        first = await asyncio.wait_for(painted, _TIMEOUT) - start

        for label, key, expected in KEYS:
            # Let the previous key's after-effects (the detail pane) finish.
            await pilot.pause(0.05)
            frame = app.expect(expected(app))
            pressed = time.perf_counter()
            await pilot.press(key)
            keys[label] = await asyncio.wait_for(frame, _TIMEOUT) - pressed

        await pilot.press("q")
    return first, keys
