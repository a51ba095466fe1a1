"""``rmi`` (``image rm``) and ``image prune``.

Both print docker's report lines (``Untagged: busybox:latest``,
``Deleted: sha256:...``) so that scripts reading them keep working.
"""

from __future__ import annotations

import argparse

from servin_core.errors import InvalidArgument, ServinError
from servin_tui.cli.command import Command, Session
from servin_tui.cli.humanize import human_size
from servin_tui.cli.output import familiar
from servin_tui.cli.prune_flags import add_filter_flag, filter_map

__all__ = ["COMMANDS"]


def _configure_rmi(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--force",
        action="store_true",
        help="remove the image even if it has several names or is in use",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE")


async def _run_rmi(session: Session, args: argparse.Namespace) -> int:
    """Remove each image in turn; a failure does not stop the others."""
    core = session.core()
    status = 0
    for name in args.images:
        try:
            report = core.images.remove(name, force=args.force)
        except ServinError as e:
            session.warn(f"Error: {e}")
            status = 1
            continue
        for action, what in report:
            session.out(f"{action}: {familiar(what)}")
    return status


def _configure_prune(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-a",
        "--all",
        action="store_true",
        help="remove every image no container uses, not only dangling ones",
    )
    parser.add_argument(
        "-f", "--force", action="store_true", help="do not ask for confirmation"
    )
    add_filter_flag(parser, "label, label!, until")


async def _run_prune(session: Session, args: argparse.Namespace) -> int:
    from servin_core.filters import prune_filter
    from servin_core.images.prune import prune

    only = prune_filter(filter_map(args.filter), "image prune")
    if not args.force and not _confirm(session, args.all):
        raise InvalidArgument(
            "image prune", "", "not confirmed, nothing removed (use -f to skip asking)"
        )

    report = prune(session.core(), all=args.all, only=only)
    if report.deleted:
        session.out("Deleted Images:")
        for action, what in report.deleted:
            session.out(f"{action.lower()}: {familiar(what)}")
        session.out()
    session.out(f"Total reclaimed space: {human_size(report.reclaimed)}")
    return 0


def _confirm(session: Session, remove_all: bool) -> bool:
    """Ask on stdout, read the answer from stdin; no stdin means no."""
    what = (
        "every image that no container uses"
        if remove_all
        else "every image without a tag (dangling images)"
    )
    session.stdout.write(f"This removes {what}.\nContinue? [y/N] ")
    session.stdout.flush()
    if not session.stdin:
        session.out()
        return False
    try:
        answer = session.stdin.readline()
    except (OSError, ValueError):
        answer = ""
    if not answer.endswith("\n"):
        session.out()
    return answer.strip().lower() in ("y", "yes")


COMMANDS = [
    Command("rmi", ("rm", "remove"), "remove images", _configure_rmi, _run_rmi),
    Command(None, ("prune",), "remove unused images", _configure_prune, _run_prune),
]
