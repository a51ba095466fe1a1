"""Entry point of ``servin-tui`` and ``python -m servin_tui``."""

from __future__ import annotations

import gc
import sys

__all__ = ["main"]


def main() -> None:
    """Run the command line in ``sys.argv`` and exit with its status."""
    # The daemon's module (asyncio, ssl, its parser) is imported only when
    # the word is there at all: every other command's start-up pays for it.
    if "--headless" in sys.argv[1:]:
        from servin_tui.headless import is_headless
        from servin_tui.headless import main as serve

        if is_headless(sys.argv[1:]):
            sys.exit(serve(sys.argv[1:]))

    # Importing a command's modules makes tens of thousands of objects that
    # live to the end; with the default first threshold (700) the collector
    # walks them over forty times per command (7-9 ms of exec's 150) looking
    # for cycles that are not there. With this one a command collects none;
    # the long-running ones (logs -f, attach, the TUI) collect, less often.
    gc.set_threshold(50_000, 10, 10)

    from servin_tui.cli.main import run

    status = run(sys.argv[1:])

    # The command is done: its database is closed and its files written.
    # Tearing down the interpreter would now walk every object the run
    # made (milliseconds; tens of them in a long listing) looking for
    # cycles to collect; frozen objects are skipped. Nothing is lost: the
    # exit still runs atexit handlers (logging's flush) and flushes stdout
    # and stderr, and the finalizers of objects left in cycles at exit are
    # not promised to run in any case. Only here, in a process that ends:
    # callers of ``run`` in a longer-lived process keep a working collector.
    gc.freeze()
    sys.exit(status)


if __name__ == "__main__":
    main()
