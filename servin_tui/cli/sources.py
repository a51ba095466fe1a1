"""Where archives come from: a named file or standard input.

Shared by ``load`` and ``import``; both refuse to read an archive from a
terminal, where a user would only see the command hang.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import BinaryIO

from servin_core.errors import InvalidArgument
from servin_tui.cli.command import Session

__all__ = ["open_input", "stdin_archive"]


@contextlib.contextmanager
def open_input(name: str) -> Iterator[BinaryIO]:
    try:
        source = open(name, "rb")  # noqa: SIM115 - closed below
    except OSError as e:
        raise InvalidArgument("file", name, e.strerror or str(e)) from e
    with source:
        yield source


def stdin_archive(session: Session, command: str) -> BinaryIO:
    source = session.binary_stdin()
    if source is None or session.stdin_is_terminal():
        raise InvalidArgument(
            command, "", "no archive on stdin; redirect one in or give a file"
        )
    return source
