"""``start``, ``stop``, ``kill``, ``restart``, ``rm``, ``pause``, ``unpause``,
``wait``, ``rename`` and ``container prune``.

Commands that take several containers act on each in turn and print each
name as it was given once done, as docker does; one that fails prints its
``Error: ...`` line and the others still run, and the command exits 1.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from servin_core.errors import InvalidArgument
from servin_tui.cli.command import Command, Runner, Session
from servin_tui.cli.prune_flags import add_filter_flag, filter_map

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["COMMANDS", "PRUNE"]

Action = Callable[["Core", str, argparse.Namespace], Awaitable[Any]]


async def _each(session: Session, names: list[str], action: Action, args: Any) -> int:
    """Run ``action`` on every name; print the names that succeeded (for
    ``wait``, the exit codes)."""
    core = session.core()

    async def act(name: str) -> object:
        result = await action(core, name, args)
        return str(result) if isinstance(result, int) else None

    return await session.each(names, act)


def _names(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def _timeout_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-t",
        "--time",
        type=int,
        metavar="SECONDS",
        help="seconds to wait before killing (default: the container's, else 10)",
    )
    parser.add_argument(
        "-s",
        "--signal",
        metavar="SIGNAL",
        help="signal sent instead of the container's stop signal",
    )
    _names(parser)


def _configure_kill(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-s", "--signal", default="SIGKILL", metavar="SIGNAL", help="default SIGKILL"
    )
    _names(parser)


def _configure_rm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--force", action="store_true", help="kill and remove a running one"
    )
    parser.add_argument(
        "-v", "--volumes", action="store_true", help="remove its anonymous volumes"
    )
    _names(parser)


def _configure_start(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-a",
        "--attach",
        action="store_true",
        help="show the output until it exits, exit with its status (one container)",
    )
    parser.add_argument(
        "-i", "--interactive", action="store_true", help="attach standard input"
    )
    from servin_tui.cli.containers_attach import add_attach_flags

    add_attach_flags(parser)
    _names(parser)


async def _run_start(session: Session, args: argparse.Namespace) -> int:
    if not args.attach:
        return await _each(session, args.containers, _start, args)
    if len(args.containers) > 1:
        raise InvalidArgument(
            "start", " ".join(args.containers), "--attach takes one container"
        )

    from servin_core.containers.lifecycle import start
    from servin_tui.cli.containers_run import follow_until_exit

    core = session.core()
    config = core.containers.resolve(args.containers[0]).config
    if config.tty or (args.interactive and config.open_stdin):
        return await _start_attached(session, core, args)
    container = await start(core, args.containers[0])
    # The log keeps earlier runs' output: show this run's only.
    return await follow_until_exit(session, core, container, since=container.started_at)


async def _start_attached(
    session: Session, core: Core, args: argparse.Namespace
) -> int:
    """``start -a`` of a container with a terminal or with ``-i``: attached
    before its process runs (containers_attach.py); 0 once detached."""
    from servin_tui.cli.containers_attach import attach_session, detach_keys_of

    code = await attach_session(
        session,
        core,
        args.containers[0],
        stdin=args.interactive,
        detach_keys=detach_keys_of(args),
        sig_proxy=args.sig_proxy == "true",
        stopped="start",
    )
    return 0 if code is None else code


async def _start(core: Core, name: str, args: Any) -> object:
    from servin_core.containers.lifecycle import start

    return await start(core, name)


async def _stop(core: Core, name: str, args: Any) -> object:
    from servin_core.containers.lifecycle import stop

    return await stop(core, name, timeout=args.time, signal=args.signal or None)


async def _restart(core: Core, name: str, args: Any) -> object:
    from servin_core.containers.lifecycle import restart

    return await restart(core, name, timeout=args.time, signal=args.signal or None)


async def _kill(core: Core, name: str, args: Any) -> object:
    from servin_core.containers.lifecycle import kill

    return await kill(core, name, signal=args.signal)


async def _rm(core: Core, name: str, args: Any) -> object:
    from servin_core.containers.lifecycle import remove

    return await remove(core, name, force=args.force, volumes=args.volumes)


async def _pause(core: Core, name: str, args: Any) -> object:
    from servin_core.containers.lifecycle import pause

    return await pause(core, name)


async def _unpause(core: Core, name: str, args: Any) -> object:
    from servin_core.containers.lifecycle import unpause

    return await unpause(core, name)


async def _wait(core: Core, name: str, args: Any) -> int:
    from servin_core.containers.lifecycle import wait

    return await wait(core, name)


def _runner(action: Action) -> Runner:
    async def run(session: Session, args: argparse.Namespace) -> int:
        return await _each(session, args.containers, action, args)

    return run


def _configure_rename(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("new_name", metavar="NEW_NAME")


async def _run_rename(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.lifecycle import rename

    rename(session.core(), args.container, args.new_name)
    return 0


def _configure_prune(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--force", action="store_true", help="do not ask for confirmation"
    )
    add_filter_flag(parser, "label, label!, until")


async def _run_prune(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.lifecycle import prune
    from servin_core.containers.prune_selected import prune_selected
    from servin_core.filters import prune_filter
    from servin_tui.cli.containers_state import written_bytes
    from servin_tui.cli.humanize import human_size

    wanted = filter_map(args.filter)
    only = prune_filter(wanted, "container prune")

    if not args.force and not _confirm(session):
        raise InvalidArgument(
            "container prune", "", "not confirmed, nothing removed (use -f)"
        )

    # The core reports IDs only: measure the writable layers beforehand.
    core = session.core()
    sizes = {
        c.id: written_bytes(core, c)
        for c in core.containers.list()
        if not c.state.is_active
    }
    removed = await (prune_selected(core, only) if wanted else prune(core))

    if removed:
        session.out("Deleted Containers:")
        for container_id in removed:
            session.out(container_id)
        session.out()
    reclaimed = sum(sizes.get(container_id, 0) for container_id in removed)
    session.out(f"Total reclaimed space: {human_size(reclaimed)}")
    return 0


def _confirm(session: Session) -> bool:
    """Ask on stdout, read the answer from stdin; no answer means no."""
    session.stdout.write("This removes every stopped container.\nContinue? [y/N] ")
    session.stdout.flush()
    try:
        answer = session.stdin.readline() if session.stdin else ""
    except (OSError, ValueError):
        answer = ""
    if not answer.endswith("\n"):
        session.out()
    return answer.strip().lower() in ("y", "yes")


COMMANDS = [
    Command("start", (), "start containers", _configure_start, _run_start),
    Command("stop", (), "stop running containers", _timeout_flags, _runner(_stop)),
    Command("restart", (), "restart containers", _timeout_flags, _runner(_restart)),
    Command("kill", (), "send a signal to containers", _configure_kill, _runner(_kill)),
    Command("rm", (), "remove containers", _configure_rm, _runner(_rm)),
    Command("pause", (), "pause all processes of containers", _names, _runner(_pause)),
    Command("unpause", (), "resume paused containers", _names, _runner(_unpause)),
    Command(
        "wait",
        (),
        "wait for containers to stop, print exit codes",
        _names,
        _runner(_wait),
    ),
    Command("rename", (), "rename a container", _configure_rename, _run_rename),
]
PRUNE = Command(None, (), "remove all stopped containers", _configure_prune, _run_prune)
"""Only under ``container``, as docker has it."""
