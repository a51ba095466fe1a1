"""``exec``, ``top`` and ``diff``: looking into a container.

``exec`` exits as docker's does: with the command's own status, 126 when
it cannot be executed, 127 when it does not exist, 125 when Servin fails
(the container is unknown or not running, a flag is wrong). Everything
after the container's name belongs to the command, flags included.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from servin_core.errors import ServinError
from servin_tui.cli.command import Command, Session

__all__ = ["COMMANDS"]

SERVIN_FAILED = 125
_TOP_MIN_WIDTH = 20
_TOP_PADDING = 3


def _configure_exec(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-d", "--detach", action="store_true", help="run the command in the background"
    )
    parser.add_argument(
        "-i", "--interactive", action="store_true", help="pass standard input on"
    )
    parser.add_argument("-t", "--tty", action="store_true", help="allocate a terminal")
    parser.add_argument(
        "-e",
        "--env",
        action="append",
        default=[],
        metavar="KEY[=VALUE]",
        help="set a variable (a bare KEY takes this shell's value)",
    )
    parser.add_argument(
        "--env-file",
        action="append",
        default=[],
        metavar="FILE",
        help="read variables from a file",
    )
    parser.add_argument(
        "-u", "--user", metavar="USER[:GROUP]", help="name or uid, and group"
    )
    parser.add_argument("-w", "--workdir", metavar="DIR", help="working directory")
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")


def _environment(args: argparse.Namespace) -> list[str]:
    from servin_tui.cli.containers_flags import parse_env_file

    environ = dict(os.environ)
    env: list[str] = []
    for path in args.env_file:
        env += parse_env_file(Path(path), environ)
    for item in args.env:
        key, sep, _ = item.partition("=")
        if sep:
            env.append(item)
        elif key in environ:
            env.append(f"{key}={environ[key]}")
    return env


async def _run_exec(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.exec import ExecFailed, exec_
    from servin_tui.cli.console import console_copier

    if not args.command:
        return _failed(session, "exec needs a command to run")
    try:
        env = _environment(args)
    except ServinError as e:
        return _failed(session, str(e))

    session.stdout.flush()
    session.stderr.flush()
    stdin = session.stdin.fileno() if args.interactive and session.stdin else None
    stdout, stderr = session.stdout.fileno(), session.stderr.fileno()
    try:
        return await exec_(
            session.core(),
            args.container,
            args.command,
            env=env,
            user=args.user,
            workdir=args.workdir,
            tty=args.tty,
            detach=args.detach,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            console=console_copier(stdin, stdout) if args.tty else None,
        )
    except ExecFailed as e:
        session.warn(f"Error: {e}")
        return e.status
    except ServinError as e:
        return _failed(session, str(e))


def _failed(session: Session, message: str) -> int:
    session.stdout.flush()
    session.warn(f"Error: {message}")
    return SERVIN_FAILED


def _configure_top(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument(
        "ps_args", nargs=argparse.REMAINDER, metavar="[ps OPTIONS]", help="default -ef"
    )


async def _run_top(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.top import top

    table = await top(session.core(), args.container, args.ps_args)
    rows = [table.titles, *table.processes]
    widths = [
        max(
            _TOP_MIN_WIDTH,
            max(len(row[i]) for row in rows if i < len(row)) + _TOP_PADDING,
        )
        for i in range(len(table.titles))
    ]
    for row in rows:
        cells = [
            cell if i == len(row) - 1 else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ]
        session.out("".join(cells))
    return 0


def _configure_diff(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("container", metavar="CONTAINER")


async def _run_diff(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.diff import diff

    for change in await diff(session.core(), args.container):
        session.out(f"{change.kind} {change.path}")
    return 0


COMMANDS = [
    Command(
        "exec",
        (),
        "run a command in a running container",
        _configure_exec,
        _run_exec,
    ),
    Command("top", (), "show a container's processes", _configure_top, _run_top),
    Command(
        "diff",
        (),
        "show what a container changed in its file system",
        _configure_diff,
        _run_diff,
    ),
]
