"""``network create``, ``inspect``, ``rm``, ``prune``, ``connect`` and
``disconnect`` (``network ls`` is in networks_list.py), and ``port``:
docker's words and output.

``rm`` acts on each network in turn: one that fails (missing, the default
one, or with containers on it, which the error names) prints its
``Error: ...`` line, the others are still removed, and the command exits 1.
"""

from __future__ import annotations

import argparse
import asyncio

from servin_core.errors import InvalidArgument, NotFound, ServinError
from servin_tui.cli import networks_list
from servin_tui.cli.command import Command, Session
from servin_tui.cli.prune_flags import add_filter_flag, filter_map

__all__ = ["CONNECT", "CREATE", "DISCONNECT", "GROUP", "INSPECT", "PORT", "PRUNE", "RM"]


def _configure_create(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("name", metavar="NETWORK")
    add("-d", "--driver", default="bridge", help="the network driver (only bridge)")
    add("--subnet", metavar="CIDR", help="the subnet (a free /24 if omitted)")
    add("--gateway", metavar="ADDRESS", help="the gateway (the subnet's first)")
    add("--internal", action="store_true", help="no traffic out of the network")
    add("--label", action="append", default=[], metavar="KEY[=VALUE]")


async def _run_create(session: Session, args: argparse.Namespace) -> int:
    from servin_core.network.manage import create_network
    from servin_tui.cli.volumes import parse_pairs

    labels = parse_pairs("--label", args.label, need_value=False)
    network = await asyncio.to_thread(
        create_network,
        session.core(),
        args.name,
        driver=args.driver,
        subnet=args.subnet,
        gateway=args.gateway,
        internal=args.internal,
        labels=labels,
    )
    session.out(network.id)
    return 0


def _configure_inspect(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--format", metavar="TEMPLATE", help="print each through a Go template"
    )
    parser.add_argument("names", nargs="+", metavar="NETWORK")


async def _run_inspect(session: Session, args: argparse.Namespace) -> int:
    from servin_core.network.describe import network_details
    from servin_core.network.manage import ensure_default
    from servin_tui.cli.inspect import print_inspected

    core = session.core()
    ensure_default(core)
    return print_inspected(
        session,
        args.names,
        lambda name: network_details(core, core.networks.resolve(name)),
        args.format,
    )


def _configure_rm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--force", action="store_true", help="no error for a missing network"
    )
    parser.add_argument("names", nargs="+", metavar="NETWORK")


async def _run_rm(session: Session, args: argparse.Namespace) -> int:
    from servin_core.network.manage import remove_network

    core = session.core()
    status = 0
    for name in args.names:
        try:
            await asyncio.to_thread(remove_network, core, name)
        except ServinError as e:
            if args.force and isinstance(e, NotFound):
                continue
            session.stdout.flush()
            session.warn(f"Error: {e}")
            status = 1
            continue
        session.out(name)
        session.stdout.flush()
    return status


def _configure_prune(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--force", action="store_true", help="do not ask for confirmation"
    )
    add_filter_flag(parser, "label, label!, until")


async def _run_prune(session: Session, args: argparse.Namespace) -> int:
    from servin_core.filters import prune_filter
    from servin_core.network.manage import prune_networks

    only = prune_filter(filter_map(args.filter), "network prune")

    if not args.force and not _confirm(session):
        raise InvalidArgument(
            "network prune", "", "not confirmed, nothing removed (use -f)"
        )
    removed = await asyncio.to_thread(prune_networks, session.core(), only)
    if removed:
        session.out("Deleted Networks:")
        for network in removed:
            session.out(network.name)
    return 0


def _confirm(session: Session) -> bool:
    """Ask on stdout, read the answer from stdin; no answer means no."""
    session.stdout.write(
        "WARNING! This will remove all custom networks not used by at least one"
        " container.\nAre you sure you want to continue? [y/N] "
    )
    session.stdout.flush()
    try:
        answer = session.stdin.readline() if session.stdin else ""
    except (OSError, ValueError):
        answer = ""
    if not answer.endswith("\n"):
        session.out()
    return answer.strip().lower() in ("y", "yes")


def _configure_connect(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--alias", action="append", default=[], metavar="NAME", help="a name on it")
    add("--ip", metavar="ADDRESS", help="the container's IPv4 address on it")
    add("network", metavar="NETWORK")
    add("container", metavar="CONTAINER")


async def _run_connect(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.locked import run_locked
    from servin_core.network.manage import connect_sync

    core = session.core()
    await run_locked(
        core,
        args.container,
        lambda c: connect_sync(
            core, c, args.network, aliases=tuple(args.alias), ip=args.ip or ""
        ),
    )
    return 0


def _configure_disconnect(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("-f", "--force", action="store_true", help="no error if not connected")
    add("network", metavar="NETWORK")
    add("container", metavar="CONTAINER")


async def _run_disconnect(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.locked import run_locked
    from servin_core.network.manage import disconnect_sync

    core = session.core()
    try:
        await run_locked(
            core, args.container, lambda c: disconnect_sync(core, c, args.network)
        )
    except NotFound as e:
        if not (args.force and e.kind == "container" and "not connected" in e.reason):
            raise
    return 0


def _configure_port(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("container", metavar="CONTAINER")
    parser.add_argument("port", nargs="?", metavar="PRIVATE_PORT[/PROTO]")


async def _run_port(session: Session, args: argparse.Namespace) -> int:
    from servin_tui.cli.containers_state import refreshed

    core = session.core()
    container = refreshed(core, [core.containers.resolve(args.container)])[0]
    ports = [p for e in core.networks.endpoints_of(container.id) for p in e.ports]
    if args.port is None:
        for port in ports:
            session.out(f"{port.key} -> {port.host_ip or '0.0.0.0'}:{port.host_port}")
        return 0
    number, _, protocol = args.port.partition("/")
    key = f"{number}/{protocol or 'tcp'}"
    matching = [p for p in ports if p.key == key]
    if not matching:
        raise NotFound("container", container.name, f"no public port '{key}' published")
    for port in matching:
        session.out(f"{port.host_ip or '0.0.0.0'}:{port.host_port}")
    return 0


CREATE = Command(None, (), "create a network", _configure_create, _run_create)
INSPECT = Command(
    None, (), "show details of networks as JSON", _configure_inspect, _run_inspect
)
RM = Command(None, (), "remove networks", _configure_rm, _run_rm)
PRUNE = Command(None, (), "remove unused networks", _configure_prune, _run_prune)
CONNECT = Command(
    None, (), "connect a container to a network", _configure_connect, _run_connect
)
DISCONNECT = Command(
    None,
    (),
    "disconnect a container from a network",
    _configure_disconnect,
    _run_disconnect,
)
PORT = Command(
    "port", (), "list a container's published ports", _configure_port, _run_port
)
COMMANDS = [PORT]

GROUP: list[tuple[tuple[str, ...], Command]] = [
    (("create",), CREATE),
    (("ls", "list"), networks_list.LS),
    (("inspect",), INSPECT),
    (("rm", "remove"), RM),
    (("prune",), PRUNE),
    (("connect",), CONNECT),
    (("disconnect",), DISCONNECT),
]
"""Registered under ``network``: (name and aliases, command)."""
