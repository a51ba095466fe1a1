"""Servin's core: the container runtime as a library.

Layers, bottom up: ``errors`` and ``log``; ``config`` and ``state`` (SQLite);
``images`` (references, content store, snapshots, image store) and
``registry`` (the distribution client); ``core`` opens them together. Front
ends (CLI, TUI, the headless daemon) open a :class:`Core` and call the
operation modules (``images.pull``, ``images.push``, ``images.archive``...).

Names are loaded on first use, so that importing one small module (errors,
say) does not import the whole core: the CLI's start-up time depends on it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servin_core.config import Config, load_config
    from servin_core.core import Core

__all__ = ["Config", "Core", "load_config"]

_WHERE = {
    "Config": "servin_core.config",
    "load_config": "servin_core.config",
    "Core": "servin_core.core",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'servin_core' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)
