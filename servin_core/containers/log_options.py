"""docker's log options (``--log-opt``, the API's ``LogConfig.Config``) as
what conmon can honour.

conmon writes one file per container and, given a size limit, starts it
again when the next record would not fit, so the newest lines survive. Of
docker's json-file options ``max-size`` means something here, and
``max-file=1`` and ``compress=false`` say what conmon does anyway (docker's
own defaults); the rest are refused rather than ignored, so that nobody
counts on older files being kept or compressed.

TODO: across restarts the file stays under twice the limit, not under the
limit. conmon counts what it wrote since it started and appends to the file
earlier runs left; a start empties a file that is already full (start.py),
as conmon would have at its next line, but one that is nearly full gets
another limit's worth. Keeping to the limit exactly needs conmon to count
the file's size at open (2.1.6 does not), or the old lines dropped at every
start, which ``logs`` would then lose.
"""

from __future__ import annotations

from collections.abc import Iterable

from servin_core.errors import InvalidArgument

__all__ = ["MIN_LOG_SIZE", "log_max_size"]

_READ_SIZE = 8192
"""conmon reads the container's output this much at a time (STDIO_BUF_SIZE)
and writes each line of a read, or the part of one it holds, as a record."""
_RECORD_HEADER = 46
"""A record's time and stream (43 bytes), its tag and space, and the newline
conmon adds to a partial line (conmon 2.1.6's write_k8s_log)."""
MIN_LOG_SIZE = _READ_SIZE + _RECORD_HEADER
"""The largest record conmon writes. A record never spans two files, so
below this one record outgrows the limit: every record then starts a new
file, which ends up larger than the limit and holding only the last one."""
_MAX_LOG_SIZE = 2**63 - 1
"""conmon reads --log-size-max as a signed 64-bit number."""

_AS_CONMON_DOES = {("max-file", "1"), ("compress", "false")}
"""Options whose value asks for what conmon does: one file, uncompressed."""

_REFUSED = {
    "max-file": "conmon keeps one log file per container and drops the old "
    "one when it starts again, so older files cannot be kept",
    "compress": "conmon keeps no older files to compress",
}


def log_max_size(options: Iterable[tuple[str, str]]) -> int | None:
    """The size limit in bytes that docker's log ``options`` (key, value)
    ask for, None for none (``max-file=1`` and ``compress=false`` change
    nothing); InvalidArgument ``log option KEY=VALUE`` for an
    option conmon cannot honour or a size it would not keep to. Sizes are
    read as docker's json-file reads them, in powers of 1000 (10m is
    10000000 bytes), not as ``--memory``'s."""
    from servin_core.containers.resources import parse_bytes

    limit: int | None = None
    for key, value in options:
        item = f"{key}={value}" if value else key
        if (key, value.strip().lower()) in _AS_CONMON_DOES:
            continue
        if key != "max-size":
            reason = _REFUSED.get(key, "unknown option")
            raise InvalidArgument(
                "log option",
                item,
                f"{reason} (only max-size, max-file=1 and compress=false are"
                " supported)",
            )
        try:
            limit = parse_bytes(value, base=1000)
        except InvalidArgument as e:
            raise InvalidArgument("log option", item, e.reason) from None
        if limit < MIN_LOG_SIZE:
            raise InvalidArgument(
                "log option",
                item,
                f"the minimum is {MIN_LOG_SIZE} bytes: conmon writes what it "
                "reads as records of up to that size, and a smaller limit "
                "cannot hold one",
            )
        if limit > _MAX_LOG_SIZE:
            raise InvalidArgument("log option", item, "too large for conmon")
    return limit
