"""``logs``, and the streaming that ``run`` uses to show a container's output.

Lines the container wrote to stdout go to our stdout and its stderr lines to
our stderr, as bytes, so that ``servin-tui logs c > out 2> err`` splits them
as docker does and binary output survives.
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO, TextIO

from servin_core.errors import InvalidArgument
from servin_tui.cli.command import Command, Session

if TYPE_CHECKING:
    from servin_core.containers.logs import LogLine
    from servin_core.containers.model import Container
    from servin_core.core import Core

__all__ = ["COMMANDS", "binary", "parse_log_time", "stream_logs", "write_line"]

_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_log_time(flag: str, text: str, now: float | None = None) -> float:
    """docker's ``--since``/``--until``: an RFC 3339 time, a Unix time
    (``1700000000.5``), or a Go duration before now (``10m``, ``1h30m``)."""
    now = time.time() if now is None else now
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if _DURATION_RE.match(text):
        total, position = 0.0, 0
        for match in _DURATION_RE.finditer(text):
            if match.start() != position:
                break
            total += float(match.group(1)) * _SECONDS[match.group(2)]
            position = match.end()
        if position == len(text):
            return now - total
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(
            flag, text, "expected a time (RFC 3339 or Unix) or a duration (10m)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # docker reads a bare time as local time
    return moment.timestamp()


def write_line(
    line: LogLine, out: BinaryIO, err: BinaryIO, *, timestamps: bool = False
) -> None:
    """Write one log line to the stream it came from."""
    stream = err if line.stream == "stderr" else out
    if timestamps:
        stamp = line.time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
        stream.write(f"{stamp}000Z ".encode())
    stream.write(line.data)


async def stream_logs(
    core: Core,
    container: Container,
    out: BinaryIO,
    err: BinaryIO,
    *,
    follow: bool = False,
    tail: int | None = None,
    since: float | None = None,
    until: float | None = None,
    timestamps: bool = False,
) -> None:
    """Copy the container's log to ``out`` (its stdout) and ``err``."""
    from servin_core.containers.logs import read_logs

    lines = read_logs(
        core, container, follow=follow, tail=tail, since=since, until=until
    )
    async for line in lines:
        write_line(line, out, err, timestamps=timestamps)
        if follow:
            # Someone is watching: each line shows as it comes.
            (err if line.stream == "stderr" else out).flush()
    out.flush()
    err.flush()


def binary(stream: TextIO) -> BinaryIO:
    """The byte stream under a text stream (the process's, in real use)."""
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        raise TypeError(f"{stream!r} has no byte stream")
    return buffer  # type: ignore[no-any-return]


def _configure_logs(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("-f", "--follow", action="store_true", help="keep printing new output")
    add("-n", "--tail", default="all", metavar="N", help="only the last N lines")
    add("--since", metavar="TIME", help="only lines since TIME (or 10m ago)")
    add("--until", metavar="TIME", help="only lines before TIME (or 10m ago)")
    add("-t", "--timestamps", action="store_true", help="show when each line came")
    add("--details", action="store_true", help="accepted for docker; no extra details")
    add("container", metavar="CONTAINER")


async def _run_logs(session: Session, args: argparse.Namespace) -> int:
    tail: int | None = None
    if args.tail != "all":
        try:
            tail = int(args.tail)
        except ValueError:
            raise InvalidArgument(
                "--tail", args.tail, "expected a number or all"
            ) from None
        # docker reads a negative count as all lines.
        tail = tail if tail >= 0 else None
    since = parse_log_time("--since", args.since) if args.since else None
    until = parse_log_time("--until", args.until) if args.until else None

    core = session.core()
    container = core.containers.resolve(args.container)
    session.stdout.flush()
    await stream_logs(
        core,
        container,
        binary(session.stdout),
        binary(session.stderr),
        follow=args.follow,
        tail=tail,
        since=since,
        until=until,
        timestamps=args.timestamps,
    )
    return 0


COMMANDS = [
    Command("logs", (), "print a container's output", _configure_logs, _run_logs)
]
