"""Reading a container's log, which conmon writes in the k8s-file format.

Each line of the file is ``TIME STREAM TAG DATA``: an RFC 3339 time with
nanoseconds, ``stdout`` or ``stderr``, ``F`` for a full line or ``P`` for a
part of one (conmon cuts long lines and writes what the process flushed
without a newline), then the bytes. Streams stay apart because conmon reads
the process's two pipes apart.

With ``log_max_size``, conmon starts the file again when it would grow past
the limit; a follower notices the file shrinking or being replaced and
reads the new one from its start.

A follower sleeps until inotify reports a write to the log, a new file in
its directory, the container's exit or a database write (watch.py), and
looks at least every quarter second regardless.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from servin_core._dataclass import dataclass
from servin_core.containers.model import Container
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import refresh
from servin_core.containers.wait import changes_of
from servin_core.containers.watch import (
    IN_ATTRIB,
    IN_CREATE,
    IN_MODIFY,
    IN_MOVED_TO,
    Watch,
)
from servin_core.errors import NotFound

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["LogLine", "parse_line", "read_logs"]

_LOOK_AGAIN = 0.25
"""Seconds between looks when no file changed."""


@dataclass(frozen=True, slots=True)
class LogLine:
    stream: str
    """``stdout`` or ``stderr``."""
    time: datetime
    data: bytes
    """The bytes as the process wrote them; a full line ends with a newline."""
    partial: bool


def _parse_time(text: bytes) -> datetime:
    # Python keeps microseconds: drop the last three digits of nanoseconds.
    stamp = text.decode()
    if "." in stamp:
        head, rest = stamp.split(".", 1)
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        stamp = f"{head}.{digits[:6].ljust(6, '0')}{rest}"
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


def parse_line(raw: bytes) -> LogLine | None:
    """One line of the file (without its newline); None if it is not one."""
    parts = raw.split(b" ", 3)
    if len(parts) < 3 or parts[1] not in (b"stdout", b"stderr"):
        return None
    data = parts[3] if len(parts) == 4 else b""
    partial = parts[2] == b"P"
    try:
        when = _parse_time(parts[0])
    except ValueError:
        return None
    return LogLine(parts[1].decode(), when, data if partial else data + b"\n", partial)


def _in_window(line: LogLine, since: float | None, until: float | None) -> bool:
    stamp = line.time.timestamp()
    return (since is None or stamp >= since) and (until is None or stamp <= until)


def _read_from(source: BinaryIO, position: int) -> tuple[list[LogLine], int]:
    """Complete lines of the file from ``position``, and the position after
    them; a line still being written is left for the next read."""
    source.seek(position)
    lines = []
    for raw in source:
        if not raw.endswith(b"\n"):
            break
        position += len(raw)
        line = parse_line(raw[:-1])
        if line is not None:
            lines.append(line)
    return lines, position


async def read_logs(
    core: Core,
    container: Container,
    *,
    follow: bool = False,
    tail: int | None = None,
    since: float | None = None,
    until: float | None = None,
) -> AsyncIterator[LogLine]:
    """The container's log lines, oldest first; ``tail`` keeps the last N,
    ``since``/``until`` bound their times (seconds since the epoch), and
    ``follow`` goes on with new lines until the container stops."""
    path = ContainerPaths.of(core.config, container.id).log
    source: BinaryIO | None
    try:
        source = path.open("rb")
    except FileNotFoundError:
        if not follow:
            return
        source = None

    position = 0
    inode = 0
    try:
        if source is not None:
            inode = os.fstat(source.fileno()).st_ino
            kept: deque[LogLine] | list[LogLine] = (
                deque(maxlen=tail) if tail is not None else []
            )
            lines, position = _read_from(source, 0)
            kept.extend(line for line in lines if _in_window(line, since, until))
            for line in kept:
                yield line
        if not follow:
            return

        with _changes(core, container.id, path) as changes:
            while True:
                source, position, inode = _reopen_if_rotated(
                    path, source, position, inode
                )
                got = False
                if source is not None:
                    lines, position = _read_from(source, position)
                    for line in lines:
                        got = True
                        if until is not None and line.time.timestamp() > until:
                            return
                        if _in_window(line, since, until):
                            yield line
                if got:
                    continue
                try:
                    current = refresh(core, core.containers.get(container.id))
                except NotFound:
                    return
                if not current.state.is_active:
                    # Read what conmon wrote before the exit, then stop.
                    if source is not None:
                        lines, position = _read_from(source, position)
                        for line in lines:
                            if _in_window(line, since, until):
                                yield line
                    return
                await changes.changed(_LOOK_AGAIN)
    finally:
        if source is not None:
            source.close()


def _changes(core: Core, container_id: str, log: Path) -> Watch:
    """What wakes a follower: the exit and database writes (as ``wait``),
    a write to the log, or a new log file (conmon's rotation)."""
    changes = changes_of(core, container_id)
    changes.add(log, IN_MODIFY | IN_ATTRIB)
    changes.add(log.parent, IN_CREATE | IN_MOVED_TO)
    return changes


def _reopen_if_rotated(
    path: os.PathLike[str], source: BinaryIO | None, position: int, inode: int
) -> tuple[BinaryIO | None, int, int]:
    """The file to read on: a new one (from its start) if conmon replaced or
    truncated it."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return source, position, inode
    if source is not None and status.st_ino == inode and status.st_size >= position:
        return source, position, inode
    if source is not None:
        source.close()
    fresh = open(path, "rb")  # noqa: SIM115 - closed by read_logs
    return fresh, 0, os.fstat(fresh.fileno()).st_ino
