"""``save`` and ``load``: images to and from tar archives (docker-archive and
OCI layout, as docker writes and reads them)."""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from servin_core.errors import InvalidArgument
from servin_tui.cli.command import Command, Session
from servin_tui.cli.output import familiar
from servin_tui.cli.progress import open_progress
from servin_tui.cli.sources import open_input, stdin_archive

__all__ = ["COMMANDS"]


def _configure_save(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE instead of stdout"
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE")


async def _run_save(session: Session, args: argparse.Namespace) -> int:
    from servin_core.images.archive import save

    if args.output:
        with _replacing(Path(args.output)) as out:
            save(session.core(), args.images, out)
        return 0

    if session.stdout_is_terminal():
        raise InvalidArgument(
            "save",
            "",
            "will not write a tar archive to a terminal; use -o FILE"
            " or redirect stdout",
        )
    session.stdout.flush()
    save(session.core(), args.images, session.stdout.buffer)
    session.stdout.buffer.flush()
    return 0


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[BinaryIO]:
    """A file that becomes ``path`` only when the block succeeds, so that a
    failed save never leaves a truncated archive behind."""
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as e:
        raise InvalidArgument("file", str(path), e.strerror or str(e)) from e
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _configure_load(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-i", "--input", metavar="FILE", help="read from FILE instead of stdin"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="do not show progress"
    )


async def _run_load(session: Session, args: argparse.Namespace) -> int:
    from servin_core.images.archive import load

    core = session.core()
    # Like docker, progress only on a terminal: piped output is the names.
    quiet = args.quiet or not session.stdout_is_terminal()
    with open_progress(session.stdout, "pull", quiet=quiet) as progress:
        if args.input:
            with open_input(args.input) as source:
                loaded = await load(core, source, progress=progress)
        else:
            loaded = await load(core, stdin_archive(session, "load"), progress=progress)

    for name in loaded:
        if name.startswith("sha256:"):
            session.out(f"Loaded image ID: {name}")
        else:
            session.out(f"Loaded image: {familiar(name)}")
    return 0


COMMANDS = [
    Command(
        "save", ("save",), "write images to a tar archive", _configure_save, _run_save
    ),
    Command(
        "load", ("load",), "read images from a tar archive", _configure_load, _run_load
    ),
]
