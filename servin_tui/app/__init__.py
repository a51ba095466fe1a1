"""The Textual application (``servin-tui`` with no subcommand).

Layering: screens and panels (``app``, ``images``, ``containers``, ...) talk
only to a :class:`~servin_tui.app.backend.Backend`; ``local`` implements it
on an in-process core. A remote backend (a headless core over SSH) will be a
second implementation, and no screen will change.
"""

from __future__ import annotations

from servin_tui.app.app import ServinApp
from servin_tui.app.backend import Backend, ContainerAction
from servin_tui.app.launch import run_app
from servin_tui.app.local import LocalBackend

__all__ = ["Backend", "ContainerAction", "LocalBackend", "ServinApp", "run_app"]
