"""``cp``: files between a container and the host, with docker's syntax.

One side is ``CONTAINER:PATH``; the other a host path or ``-`` (a tar
stream on standard input or output). Where the copy lands follows docker:
into an existing directory under the source's name (its contents, for a
source ending in ``/.``), over an existing file, or at a new name whose
parent exists. The host side is unpacked with the layer applier from a
directory descriptor, so a hostile archive from a container cannot write
outside the destination either.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from typing import BinaryIO, cast

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument, NotFound
from servin_tui.cli.command import Command, Session

__all__ = ["COMMANDS", "split_target"]


def split_target(text: str) -> tuple[str | None, str]:
    """``(container, path)``, container None for a host path (docker's rule:
    an absolute path or one starting with ``.`` is local)."""
    if text.startswith("/") or text.startswith("."):
        return None, text
    container, colon, path = text.partition(":")
    if not colon or not container:
        return None, text
    return container, path


def _placement(
    source_name: str, source_is_dir: bool, contents: bool, dest: str, info: _Dest
) -> tuple[str, str]:
    """The directory to unpack into and the top entry's name there."""
    if info.exists and info.is_dir:
        return dest, "." if (contents and source_is_dir) else source_name
    if info.exists:
        if source_is_dir:
            raise InvalidArgument("cp", dest, "cannot copy a directory to a file")
        return os.path.dirname(dest.rstrip("/")) or "/", os.path.basename(dest)
    if dest.endswith("/") and not source_is_dir:
        raise NotFound("cp", dest, "destination directory does not exist")
    trimmed = dest.rstrip("/")
    return os.path.dirname(trimmed) or ".", os.path.basename(trimmed)


@dataclass(frozen=True)
class _Dest:
    exists: bool
    is_dir: bool


def _configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("-a", "--archive", action="store_true", help="keep uid/gid information")
    add("-L", "--follow-link", action="store_true", help="follow a symlink in SRC")
    add("-q", "--quiet", action="store_true", help="print no progress line")
    add("source", metavar="SRC", help="CONTAINER:SRC_PATH, a host path or -")
    add("destination", metavar="DEST", help="CONTAINER:DEST_PATH, a host path or -")


async def _run(session: Session, args: argparse.Namespace) -> int:
    import asyncio

    src_container, src = split_target(args.source)
    dest_container, dest = split_target(args.destination)
    if src_container and dest_container:
        raise InvalidArgument(
            "cp", args.source, "copying between containers is not supported"
        )
    if not src_container and not dest_container:
        raise InvalidArgument("cp", args.source, "one side must be CONTAINER:PATH")

    session.core()  # opened here, not in a worker thread
    if src_container:
        size = await asyncio.to_thread(
            _copy_out, session, args, src_container, src, dest
        )
        where = dest
    else:
        assert dest_container is not None
        size = await asyncio.to_thread(
            _copy_in, session, args, src, dest_container, dest
        )
        where = args.destination
    if not args.quiet and size is not None:
        from servin_tui.cli.humanize import human_size

        session.warn(f"Successfully copied {human_size(size)} to {where}")
    return 0


def _copy_out(
    session: Session, args: argparse.Namespace, container: str, src: str, dest: str
) -> int | None:
    from servin_core.containers.copy import copy_from_container, path_info
    from servin_core.images.unpack import apply_layer

    core = session.core()
    if dest == "-":
        out = cast(BinaryIO, session.stdout.buffer)
        copy_from_container(core, container, src, out, follow_link=args.follow_link)
        out.flush()
        return None

    info = path_info(core, container, src, follow_link=args.follow_link)
    if not info.exists:
        raise NotFound("path", f"{container}:{src}", "no such file or directory")
    host = _host_dest(dest)
    directory, arcname = _placement(
        info.name, info.is_dir, src.endswith("/."), dest, host
    )
    owner = None if args.archive else (os.getuid(), os.getgid())
    with tempfile.TemporaryFile() as spool:
        copy_from_container(
            core,
            container,
            src,
            cast(BinaryIO, spool),
            arcname=arcname,
            follow_link=args.follow_link,
            owner=owner,
        )
        size = spool.tell()
        spool.seek(0)
        fd = _open_host_dir(directory)
        try:
            apply_layer(cast(BinaryIO, spool), fd, ident=dest, whiteouts=False)
        finally:
            os.close(fd)
    return size


def _copy_in(
    session: Session, args: argparse.Namespace, src: str, container: str, dest: str
) -> int | None:
    from servin_core.containers.copy import copy_to_container, path_info
    from servin_core.containers.copy_archive import write_tree

    core = session.core()
    if src == "-":
        stdin = session.binary_stdin()
        if stdin is None:
            raise InvalidArgument("cp", "-", "no standard input to read a tar from")
        copy_to_container(core, container, dest, stdin)
        return None

    contents = src.endswith("/.")
    source = os.path.abspath(src[:-2] if contents else src)
    if args.follow_link:
        source = os.path.realpath(source)
    if not os.path.lexists(source):
        raise NotFound("path", src, "no such file or directory")
    is_dir = os.path.isdir(source) and not os.path.islink(source)

    info = path_info(core, container, dest)
    directory, arcname = _placement(
        os.path.basename(source),
        is_dir,
        contents,
        dest,
        _Dest(info.exists, info.is_dir),
    )
    owner = None if args.archive else (0, 0)
    with tempfile.TemporaryFile() as spool:
        parent = _open_host_dir(os.path.dirname(source))
        try:
            write_tree(
                parent, os.path.basename(source), cast(BinaryIO, spool), arcname,
                owner=owner,
            )  # fmt: skip
        finally:
            os.close(parent)
        size = spool.tell()
        spool.seek(0)
        copy_to_container(core, container, directory, cast(BinaryIO, spool))
    return size


def _host_dest(dest: str) -> _Dest:
    # The host side is the user's own: its symlinks are followed.
    return _Dest(os.path.exists(dest), os.path.isdir(dest))


def _open_host_dir(path: str) -> int:
    try:
        return os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except FileNotFoundError:
        raise NotFound("path", path, "no such directory") from None
    except NotADirectoryError:
        raise InvalidArgument("path", path, "not a directory") from None


COMMANDS = [
    Command(
        "cp",
        (),
        "copy files between a container and the host",
        _configure,
        _run,
    ),
]
