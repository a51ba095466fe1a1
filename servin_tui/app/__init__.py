"""The Textual application (``servin-tui`` with no subcommand).

Layering: screens and panels (``app``, ``images``, ``containers``, ...) talk
only to a :class:`~servin_tui.app.backend.Backend`; ``local`` implements it
on an in-process core. A remote backend (a headless core over SSH) will be a
second implementation, and no screen will change. This package imports
nothing itself, so that ``backend`` can be used without loading Textual.
"""

from __future__ import annotations

__all__: list[str] = []
