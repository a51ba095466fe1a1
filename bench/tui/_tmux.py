"""A real launch: ``servin-tui --root DIR`` in a detached tmux terminal.

This adds what the headless run leaves out: starting Python, importing
Textual and the core, and writing the frames to a terminal. The benchmark
reads the terminal with ``tmux capture-pane`` every few milliseconds until
the newest containers' IDs are all on it (the list opens sorted newest
first, so they are its top rows), and notes whether their names are legible
on that same screen: sometimes the first paint cuts every column to its
header's width, and names like ``bench-00500`` show as ``benc…`` until the
ages are next redrawn, some 30 s later. tmux runs on a server of its own
(``-L``), so no user's sessions are touched, and the server is ended after
each launch.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _headless import SIZE
from _store import container_name

__all__ = ["LaunchFailed", "have_tmux", "launch_in_tmux"]

_TIMEOUT = 120.0
_SHOWN = 10
"""How many of the newest rows must be on the screen (fewer fit on none)."""


class LaunchFailed(Exception):
    """servin-tui never showed its rows in tmux."""


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


def launch_in_tmux(root: Path, short_ids: list[str]) -> tuple[float, bool]:
    """Seconds from starting ``servin-tui --root root`` to the screen
    showing the newest rows of the containers ``short_ids`` (oldest first),
    and whether their names were legible on that screen."""
    cli = Path(sys.executable).parent / "servin-tui"
    server = ["tmux", "-L", f"servin-bench-tui-{os.getpid()}"]
    count = len(short_ids)
    newest = range(count, max(count - _SHOWN, 0), -1)
    ids = [short_ids[n - 1] for n in newest]
    names = [container_name(n) for n in newest]
    columns, lines = SIZE

    start = time.perf_counter()
    subprocess.run(
        [
            *server,
            *("new-session", "-d", "-x", str(columns), "-y", str(lines)),
            f"{cli} --root {root}",
        ],
        check=True,
    )
    try:
        while True:
            screen = subprocess.run(
                [*server, "capture-pane", "-p"], capture_output=True, text=True
            )
            if screen.returncode != 0:
                raise LaunchFailed(f"servin-tui --root {root} ended: {screen.stderr}")
            if all(ident in screen.stdout for ident in ids):
                took = time.perf_counter() - start
                return took, all(name in screen.stdout for name in names)
            if time.perf_counter() - start > _TIMEOUT:
                raise LaunchFailed(f"no rows after {_TIMEOUT:.0f} s:\n{screen.stdout}")
            time.sleep(0.005)
    finally:
        _quit(server)


def _quit(server: list[str]) -> None:
    """Quit the app with its own key, so that it closes its core, then end
    the tmux server."""
    subprocess.run([*server, "send-keys", "q"], capture_output=True)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = subprocess.run([*server, "has-session"], capture_output=True)
        if alive.returncode != 0:
            return
        time.sleep(0.05)
    subprocess.run([*server, "kill-server"], capture_output=True)
