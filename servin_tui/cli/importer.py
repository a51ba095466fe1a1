"""``import``: an image made from root filesystem tarballs."""

from __future__ import annotations

import argparse
import contextlib

from servin_core.errors import InvalidArgument
from servin_tui.cli.command import Command, Session
from servin_tui.cli.sources import open_input, stdin_archive

__all__ = ["COMMANDS"]


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--change",
        action="append",
        default=[],
        metavar="CHANGE",
        help="Dockerfile instruction to apply (CMD, ENV, ...); repeatable",
    )
    parser.add_argument("-m", "--message", metavar="MSG", help="history comment")
    parser.add_argument(
        "--platform", metavar="OS/ARCH[/VARIANT]", help="platform of the image"
    )
    parser.add_argument("file", metavar="FILE|-", help="a root filesystem tarball")
    parser.add_argument("reference", nargs="?", metavar="REPOSITORY[:TAG]")


async def _run_import(session: Session, args: argparse.Namespace) -> int:
    from servin_core.images.importer import import_image

    if "://" in args.file:
        raise InvalidArgument(
            "import", args.file, "importing from a URL is not supported"
        )

    core = session.core()
    with contextlib.ExitStack() as stack:
        if args.file == "-":
            source = stdin_archive(session, "import")
        else:
            source = stack.enter_context(open_input(args.file))
        image = await import_image(
            core,
            source,
            args.reference,
            changes=args.change,
            message=args.message,
            platform=args.platform,
        )
    session.out(image.id)
    return 0


COMMANDS = [
    Command(
        "import",
        ("import",),
        "create an image from a root filesystem tarball",
        _configure_import,
        _run_import,
    ),
]
