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
from pathlib import Path
from typing import TYPE_CHECKING

from servin_tui.cli import (
    archive,
    containers,
    images,
    importer,
    inspect,
    login,
    remove,
    transfer,
)
from servin_tui.cli.command import Command, Runner, Session

if TYPE_CHECKING:
    from servin_core.config import Config

__all__ = ["build_parser", "run"]

_LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
_IMAGE_COMMANDS: list[Command] = [
    *images.COMMANDS,
    *transfer.COMMANDS,
    *login.COMMANDS,
    *inspect.COMMANDS,
    *remove.COMMANDS,
    *archive.COMMANDS,
    *importer.COMMANDS,
]
# Top-level commands: containers' ``inspect`` tries containers, then images;
# images' own stays ``image inspect``.
_COMMANDS: list[Command] = [
    *(c for c in _IMAGE_COMMANDS if c.name != "inspect"),
    *containers.COMMANDS,
]
_TOP_LEVEL_ORDER = (
    "run",
    "create",
    "start",
    "stop",
    "restart",
    "kill",
    "rm",
    "ps",
    "logs",
    "wait",
    "pause",
    "unpause",
    "rename",
    "images",
    "pull",
    "push",
    "tag",
    "rmi",
    "inspect",
    "history",
    "login",
    "logout",
    "save",
    "load",
    "import",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servin-tui",
        description=(
            "Servin runs Linux containers and manages them from the keyboard. "
            "The subcommands follow docker's syntax."
        ),
    )
    parser.add_argument(
        "--root",
        type=Path,
        metavar="DIR",
        help="keep all state (data, run directory, sockets) under DIR",
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (TOML)"
    )
    parser.add_argument(
        "--log-level",
        choices=_LOG_LEVELS,
        default="warning",
        metavar="LEVEL",
        help=f"log to stderr from this level on: {', '.join(_LOG_LEVELS)}",
    )
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="with no command: the application's theme (dark, light, high-contrast)",
    )
    parser.add_argument("--version", action="version", version=_version())

    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    by_name = {c.name: c for c in _COMMANDS if c.name}
    for name in sorted(by_name, key=_TOP_LEVEL_ORDER.index):
        _add(commands, name, by_name[name])

    container = commands.add_parser(
        "container", help="manage containers (ls, run, rm, prune, ...)"
    )
    container_commands = container.add_subparsers(
        dest="container_command", metavar="COMMAND", required=True
    )
    for (first, *aliases), command in containers.GROUP:
        _add(container_commands, first, command, aliases)

    image = commands.add_parser("image", help="manage images (ls, pull, rm, ...)")
    image_commands = image.add_subparsers(
        dest="image_command", metavar="COMMAND", required=True
    )
    for command in _IMAGE_COMMANDS:
        if command.image_names:
            first, *aliases = command.image_names
            _add(image_commands, first, command, aliases)
    return parser


def _add(
    group: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    command: Command,
    aliases: Sequence[str] = (),
) -> None:
    parser = group.add_parser(
        name, aliases=list(aliases), help=command.help, description=command.help
    )
    command.configure(parser)
    parser.set_defaults(run=command.run)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"servin-tui {version('servin')}"
    except PackageNotFoundError:
        return "servin-tui (not installed)"


def run(argv: Sequence[str]) -> int:
    """Run one command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            # The application needs a terminal; a script gets the usage.
            parser.print_help()
            return 0
        return _run_app(args)

    # Imported after parsing: --help and usage errors need none of this.
    import asyncio

    from servin_core import log
    from servin_core.errors import ServinError

    log.configure(args.log_level)
    session: Session | None = None
    try:
        session = Session(_load_config(args))
        runner: Runner = args.run
        return asyncio.run(runner(session, args))
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
