"""``commit``: an image from a container's changes; prints its ID."""

from __future__ import annotations

import argparse

from servin_tui.cli.command import Command, Session

__all__ = ["COMMANDS"]


def _configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("-a", "--author", metavar="AUTHOR", help='author ("Name <email>")')
    add(
        "-c",
        "--change",
        action="append",
        default=[],
        metavar="CHANGE",
        help="Dockerfile instruction to apply (CMD, ENV, ...); repeatable",
    )
    add("-m", "--message", metavar="MSG", help="commit message")
    add(
        "-p",
        "--pause",
        default=True,
        action=argparse.BooleanOptionalAction,
        help="pause the container while committing (default)",
    )
    add("container", metavar="CONTAINER")
    add("reference", nargs="?", metavar="REPOSITORY[:TAG]")


async def _run(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.commit import commit

    image = await commit(
        session.core(),
        args.container,
        args.reference,
        changes=args.change,
        message=args.message,
        author=args.author,
        pause=args.pause,
    )
    session.out(image.id)
    return 0


COMMANDS = [
    Command(
        "commit",
        (),
        "create a new image from a container's changes",
        _configure,
        _run,
    ),
]
