"""Showing pull and push progress from the core's ProgressEvents.

On a terminal, one rich progress bar per layer; elsewhere (pipes, logs, CI)
one plain line each time a layer changes state, as docker prints them
(``ec562eabd705: Pull complete``). Byte counts alone never print a plain
line, so a log stays short.

The core may call back from worker threads, so both displays take a lock
or rely on rich's own.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TextIO

if TYPE_CHECKING:
    from servin_core.images.progress import ProgressEvent

__all__ = ["Direction", "LayerProgress", "open_progress"]

Direction = Literal["pull", "push"]

_STATUS = {
    "waiting": "Waiting",
    "downloading": "Downloading",
    "verifying": "Verifying Checksum",
    "extracting": "Extracting",
    "complete": "Pull complete",
    "pushing": "Pushing",
    "mounted": "Mounted from another repository",
    "pushed": "Pushed",
    "failed": "Failed",
}
_EXISTS = {"pull": "Already exists", "push": "Layer already exists"}
_TRANSFERS = frozenset({"downloading", "pushing", "mounted", "extracting"})


def status_text(action: str, direction: Direction) -> str:
    if action == "exists":
        return _EXISTS[direction]
    return _STATUS.get(action, action.capitalize())


def short_digest(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


class LayerProgress:
    """Plain lines; the base of the rich display, which overrides ``_show``.

    ``transferred`` tells afterwards whether any layer moved (for docker's
    "Downloaded newer image" versus "Image is up to date").
    """

    def __init__(
        self,
        stream: TextIO,
        direction: Direction,
        only: Collection[str] | None = None,
    ) -> None:
        self.stream = stream
        self.direction = direction
        self.only = only
        self.transferred = False
        self._last: dict[str, str] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> LayerProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stream.flush()

    def __call__(self, event: ProgressEvent) -> None:
        if event.action == "resolving":
            return
        if self.only is not None and event.layer not in self.only:
            return
        with self._lock:
            if event.action in _TRANSFERS:
                self.transferred = True
            self._show(event)

    def _show(self, event: ProgressEvent) -> None:
        if self._last.get(event.layer) == event.action:
            return
        self._last[event.layer] = event.action
        text = status_text(event.action, self.direction)
        self.stream.write(f"{short_digest(event.layer)}: {text}\n")
        self.stream.flush()


class _RichProgress(LayerProgress):
    """A live table of bars, one per layer, drawn by rich."""

    def __init__(
        self,
        stream: TextIO,
        direction: Direction,
        only: Collection[str] | None = None,
    ) -> None:
        super().__init__(stream, direction, only)
        from rich.console import Console
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        self._progress = Progress(
            TextColumn("{task.fields[layer]}:"),
            TextColumn("{task.description:<20}"),
            BarColumn(),
            DownloadColumn(),
            console=Console(file=stream),
        )
        self._tasks: dict[str, Any] = {}
        self._sizes: dict[str, int] = {}

    def __enter__(self) -> LayerProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def _show(self, event: ProgressEvent) -> None:
        task = self._tasks.get(event.layer)
        if task is None:
            task = self._progress.add_task(
                "", total=None, layer=short_digest(event.layer)
            )
            self._tasks[event.layer] = task
        if event.total:
            self._sizes[event.layer] = event.total
        size = self._sizes.get(event.layer)
        # A finished layer shows a full bar even when its size was never told.
        if event.action in ("complete", "exists", "pushed", "mounted"):
            total: float | None = size or 1
            completed = total
        else:
            total, completed = size, event.current
        self._progress.update(
            task,
            description=status_text(event.action, self.direction),
            total=total,
            completed=completed,
        )


def open_progress(
    stream: TextIO,
    direction: Direction,
    *,
    quiet: bool = False,
    only: Collection[str] | None = None,
) -> LayerProgress:
    """The display that suits ``stream``: bars on a terminal, else lines.

    With ``quiet``, a display that prints nothing but still tracks
    whether anything was transferred. ``only`` limits it to those blobs
    (a push shows layers, not the config, as docker does).
    """
    if quiet:
        return _Silent(stream, direction, only)
    if stream.isatty():
        return _RichProgress(stream, direction, only)
    return LayerProgress(stream, direction, only)


class _Silent(LayerProgress):
    def _show(self, event: ProgressEvent) -> None:
        pass
