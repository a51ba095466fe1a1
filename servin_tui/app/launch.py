"""Starting the application from the command line."""

from __future__ import annotations

from servin_core.config import Config

__all__ = ["run_app"]


def run_app(
    config: Config, *, theme: str | None = None, log_level: str = "warning"
) -> int:
    """Open the local core and run the app until the user quits; returns the
    exit status."""
    from textual.logging import TextualHandler

    from servin_core import log
    from servin_tui.app.app import ServinApp
    from servin_tui.app.local import LocalBackend

    # Log lines written to the terminal would tear the screen: they go to
    # Textual's log (``textual console``) instead.
    log.configure(log_level)
    log.root.handlers[:] = [TextualHandler()]

    backend = LocalBackend.open(config)
    try:
        app = ServinApp(backend, theme=theme)
    except BaseException:
        backend.close_now()
        raise
    app.run()
    return app.return_code or 0
