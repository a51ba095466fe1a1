"""Progress of pulls and pushes, reported per layer as events.

The core calls a :data:`ProgressCallback` for every change; the CLI draws bars
from them, the Docker API will turn them into its JSON stream and the TUI into
progress widgets. A callback must be cheap and must not raise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from servin_core._dataclass import dataclass

__all__ = ["Action", "ProgressCallback", "ProgressEvent", "ignore_progress"]

Action = Literal[
    "resolving",  # looking up the manifest; layer is the reference
    "waiting",  # queued behind other transfers
    "downloading",
    "verifying",
    "extracting",
    "complete",  # pulled and unpacked
    "exists",  # already present locally (pull) or remotely (push)
    "pushing",
    "mounted",  # cross-repository mount: no upload needed
    "pushed",
    "failed",
]


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """One step of one layer (or blob) of an image transfer."""

    reference: str
    """The image reference being pulled or pushed, as the user gave it."""
    layer: str
    """The blob's digest (``sha256:...``); the reference for ``resolving``."""
    action: Action
    current: int = 0
    """Bytes done so far in this action."""
    total: int = 0
    """Bytes in all; 0 when unknown."""


ProgressCallback = Callable[[ProgressEvent], None]


def ignore_progress(event: ProgressEvent) -> None:
    """The default callback: drops the event."""
