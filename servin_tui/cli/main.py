"""Parsing the command line and running the chosen command.

Global options come before the subcommand, as podman takes them. Errors
become exit codes here and nowhere else: a ServinError prints one line,
``Error: <message>``, and exits 1; argparse's usage errors exit 2; an
interrupt exits 130.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from servin_tui.cli.command import Runner, Session
from servin_tui.cli.parser import build_parser

if TYPE_CHECKING:
    from servin_core.config import Config

__all__ = ["build_parser", "run"]


def run(argv: Sequence[str]) -> int:
    """Run one command line; returns the exit status."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            # The application needs a terminal; a script gets the usage.
            parser.print_help()
            return 0
        return _run_app(args)

    # Imported after parsing: --help and usage errors need none of this.
    from servin_core import log
    from servin_core.errors import ServinError

    log.configure(args.log_level)
    session: Session | None = None
    try:
        session = Session(_load_config(args))
        runner: Runner = args.run
        outcome = runner(session, args)
        if isinstance(outcome, int):
            return outcome
        # The event loop only now: ``run`` may have started its container
        # (and imported asyncio meanwhile) before it needed one.
        import asyncio

        return asyncio.run(outcome)
    except ServinError as e:
        sys.stdout.flush()
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        # The state directory or a file the user named cannot be used
        # (permissions, a full disk): the message names the path.
        if isinstance(e, BrokenPipeError):
            # The reader went away (``servin-tui images | head``).
            _silence_stdout()
            return 141
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        if session is not None:
            session.close()


def _run_app(args: argparse.Namespace) -> int:
    """No command: the Textual application on the local core."""
    from servin_core.errors import ServinError
    from servin_tui.app.launch import run_app

    try:
        return run_app(_load_config(args), theme=args.theme, log_level=args.log_level)
    except (ServinError, OSError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1


def _load_config(args: argparse.Namespace) -> Config:
    from servin_core.config import load_config

    config = load_config(args.config)
    return config.with_root(args.root.absolute()) if args.root else config


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush of a
    closed pipe does not print a second error."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
