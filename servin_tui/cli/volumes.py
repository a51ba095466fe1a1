"""``volume create``, ``inspect``, ``rm`` and ``prune`` (``volume ls`` is in
volumes_list.py), docker's words and output.

``rm`` acts on each volume in turn: one that fails (missing, or in use by a
container, which the error names) prints its ``Error: ...`` line, the
others are still removed, and the command exits 1.
"""

from __future__ import annotations

import argparse

from servin_core.errors import InvalidArgument
from servin_tui.cli import volumes_list
from servin_tui.cli.command import Command, Session
from servin_tui.cli.prune_flags import add_filter_flag, filter_map

__all__ = ["CREATE", "GROUP", "INSPECT", "PRUNE", "RM", "parse_pairs"]


def parse_pairs(flag: str, texts: list[str], *, need_value: bool) -> dict[str, str]:
    """``KEY=VALUE`` flags (``--label`` may omit ``=VALUE``) as a dict."""
    pairs: dict[str, str] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not key or (need_value and not sep):
            raise InvalidArgument(flag, text, "expected KEY=VALUE")
        pairs[key] = value
    return pairs


def _configure_create(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("name", nargs="?", metavar="VOLUME", help="its name (generated if omitted)")
    add("-d", "--driver", default="local", help="the volume driver (only local)")
    add("--label", action="append", default=[], metavar="KEY[=VALUE]")
    add(
        "-o",
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="driver options: type, device, o (as for mount(8))",
    )


async def _run_create(session: Session, args: argparse.Namespace) -> int:
    from servin_core.volumes.operations import create_sync

    labels = parse_pairs("--label", args.label, need_value=False)
    options = parse_pairs("--opt", args.opt, need_value=True)
    volume = create_sync(
        session.core(),
        args.name,
        labels=labels,
        options=options,
        driver=args.driver,
    )
    session.out(volume.name)
    return 0


def _configure_inspect(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--format", metavar="TEMPLATE", help="print each through a Go template"
    )
    parser.add_argument("names", nargs="+", metavar="VOLUME")


async def _run_inspect(session: Session, args: argparse.Namespace) -> int:
    from servin_core.volumes.describe import volume_details
    from servin_core.volumes.operations import get
    from servin_tui.cli.inspect import print_inspected

    core = session.core()
    return print_inspected(
        session,
        args.names,
        lambda name: volume_details(core, get(core, name)),
        args.format,
    )


def _configure_rm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f", "--force", action="store_true", help="no error for a missing volume"
    )
    parser.add_argument("names", nargs="+", metavar="VOLUME")


async def _run_rm(session: Session, args: argparse.Namespace) -> int:
    from servin_core.volumes.operations import remove

    core = session.core()
    return await session.each(
        args.names, lambda name: remove(core, name, force=args.force)
    )


def _configure_prune(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="named volumes too, not only anonymous"
    )
    parser.add_argument(
        "-f", "--force", action="store_true", help="do not ask for confirmation"
    )
    add_filter_flag(parser, "label, label!")


async def _run_prune(session: Session, args: argparse.Namespace) -> int:
    from servin_core.filters import prune_filter
    from servin_core.volumes.operations import prune
    from servin_tui.cli.humanize import human_size

    only = prune_filter(filter_map(args.filter), "volume prune", until=False)

    what = "all" if args.all else "anonymous"
    if not args.force and not _confirm(session, what):
        raise InvalidArgument(
            "volume prune", "", "not confirmed, nothing removed (use -f)"
        )

    removed = await prune(session.core(), everything=args.all, only=only)
    if removed:
        session.out("Deleted Volumes:")
        for name, _ in removed:
            session.out(name)
        session.out()
    session.out(f"Total reclaimed space: {human_size(sum(s for _, s in removed))}")
    return 0


def _confirm(session: Session, what: str) -> bool:
    """Ask on stdout, read the answer from stdin; no answer means no."""
    session.stdout.write(
        f"This removes {what} volumes not used by at least one container.\n"
        "Continue? [y/N] "
    )
    session.stdout.flush()
    try:
        answer = session.stdin.readline() if session.stdin else ""
    except (OSError, ValueError):
        answer = ""
    if not answer.endswith("\n"):
        session.out()
    return answer.strip().lower() in ("y", "yes")


CREATE = Command(None, (), "create a volume", _configure_create, _run_create)
INSPECT = Command(
    None, (), "show details of volumes as JSON", _configure_inspect, _run_inspect
)
RM = Command(None, (), "remove volumes", _configure_rm, _run_rm)
PRUNE = Command(None, (), "remove unused volumes", _configure_prune, _run_prune)

GROUP: list[tuple[tuple[str, ...], Command]] = [
    (("create",), CREATE),
    (("ls", "list"), volumes_list.LS),
    (("inspect",), INSPECT),
    (("rm", "remove"), RM),
    (("prune",), PRUNE),
]
"""Registered under ``volume``: (name and aliases, command)."""
