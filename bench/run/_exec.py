"""The second half of the issue's benchmark: ``exec ID true`` into a running
container, Servin against ``podman exec``.

Before the rounds, each store gets a ``sleep 3600`` container started
detached, with the flags its ``run`` rounds use; every round then times
``exec ID true`` into it beside the ``run`` rounds, as the tools
``servin-exec`` and ``podman-exec``. The container runs for the whole
benchmark, so its conmon (which names the store on its command line) is
listed once, when it has started, and left out of the background waits.

Both containers are removed at the end, also after a failure or Ctrl-C:
each has a name of its own, so it can be removed even when ``run -d`` was
cut off before printing the ID.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from _rootfs import IMAGE
from _settle import processes_with, wait_for_background
from _tools import ToolFailed, timed, tool_environment

__all__ = ["Exec", "Store"]

_TIMEOUT = 120


class Store(Protocol):
    """A CLI with an image store of its own (_tools.Servin, _tools.Podman)."""

    name: str
    marker: str

    def base(self) -> list[str]: ...

    def run_flags(self) -> list[str]: ...


class Exec:
    """``exec ID true`` into a ``sleep 3600`` container of ``store``.

    Nothing is started until :meth:`start`, so that a caller can hold the
    object (and close it) before anything can fail."""

    def __init__(self, store: Store, directory: Path, remove: list[str]) -> None:
        self.name = f"{store.name}-exec"
        self.marker = store.marker
        self.resident: frozenset[int] = frozenset()
        """The container's own processes, there from start to end."""
        self._store = store
        self._remove = remove
        self._container = f"servin-bench-exec-{os.getpid()}"
        self._id = ""
        self._started = False
        self._log = directory / f"{self.name}.log"

    def start(self) -> None:
        """Start the container detached and note its resident processes."""
        self._started = True
        command = [
            *self._store.base(),
            *("run", "-d", "--name", self._container),
            *self._store.run_flags(),
            *(IMAGE, "sleep", "3600"),
        ]
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=tool_environment(),
            timeout=_TIMEOUT,
        )
        lines = result.stdout.decode(errors="replace").split()
        if result.returncode != 0 or not lines:
            output = (result.stdout + result.stderr).decode(errors="replace")
            raise ToolFailed(
                f"{self.name}: run -d exited with {result.returncode}:\n"
                + output[-4000:]
            )
        self._id = lines[-1]

        # Started by ``run -d`` and still there: conmon (``--cid ID``).
        # Helpers that come and go name the store but not the ID.
        self.resident = processes_with(self.marker, self._id)

    def run_once(self) -> float:
        return timed(
            self.name, [*self._store.base(), "exec", self._id, "true"], self._log
        )

    def close(self) -> None:
        """Remove the container, if it was ever started; say so if that
        fails, since it would run on for an hour."""
        if not self._started:
            return
        result = subprocess.run(
            [*self._store.base(), "rm", *self._remove, self._container],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=tool_environment(),
            timeout=_TIMEOUT,
        )
        if result.returncode != 0 and self._id:
            output = (result.stdout + result.stderr).decode(errors="replace")
            print(
                f"could not remove {self.name} container {self._container}:\n"
                + output[-2000:],
                file=sys.stderr,
            )

        # conmon and the exit command end after ``rm`` returns; the store
        # is unmounted and removed next.
        wait_for_background(self.marker)
