"""Running the Textual application against a real core in a temporary root.

A module of its own (not conftest.py) so that the app's tests can import it
by a name no other test folder uses.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netconfig import BRIDGE, SUBNET
from textual.pilot import Pilot

from servin_core.config import Config
from servin_tui.app.app import ServinApp
from servin_tui.app.local import LocalBackend

__all__ = ["FIXED_NOW", "RecordingApp", "make_app", "root_config", "until"]

FIXED_NOW = 1_709_251_200.0
"""2024-03-01 00:00 UTC: images made on 2024-01-01 are "2 months" old."""


class RecordingApp(ServinApp):
    """The app, keeping every notification it shows (``run_test`` does not
    draw them)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shown: list[tuple[str, str, str]] = []

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        **kwargs: Any,
    ) -> None:
        self.shown.append((str(severity), title, message))
        super().notify(message, title=title, severity=severity, **kwargs)


def make_app(config: Config, **options: Any) -> RecordingApp:
    """The app on a local backend for ``config``; the app closes the core."""
    return RecordingApp(LocalBackend.open(config), **options)


async def until(pilot: Pilot[None], condition: Callable[[], object], what: str) -> None:
    """Let the app run until ``condition()`` holds; fail after a long while
    (a bound against hanging, not a measure of speed)."""
    deadline = time.monotonic() + 60
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the app never reached: {what}")
        await pilot.pause(0.05)


def root_config(path: Path, **settings: Any) -> Config:
    # The session's own default network (tests/netconfig.py), not servin0.
    network = {"default_bridge": BRIDGE, "default_network_subnet": SUBNET}
    return Config(data_dir=path, run_dir=path / "run", **{**network, **settings})
