"""Who owns a temporary file or lease: a process, named so that its death shows.

A token is ``PID.STARTTIME``: the start time (in clock ticks since boot, from
/proc) tells a live owner from a later process that reused the PID.
"""

from __future__ import annotations

import functools
import os

__all__ = ["is_alive", "own_token"]


def _start_time(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name (field 2) may hold spaces and parentheses: split after it.
    fields = stat[stat.rindex(b")") + 2 :].split()
    return int(fields[19])


@functools.cache
def _own_token(pid: int) -> str:
    return f"{pid}.{_start_time(pid)}"


def own_token() -> str:
    """This process's owner token (recomputed after a fork)."""
    return _own_token(os.getpid())


def is_alive(token: str) -> bool:
    """Whether the process that made ``token`` still runs."""
    try:
        pid_text, start_text = token.split(".", 1)
        pid = int(pid_text)
    except ValueError:
        return False
    return str(_start_time(pid)) == start_text
