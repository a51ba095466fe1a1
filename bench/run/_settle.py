"""Waiting, between two timed runs, for a tool's background work to end.

A CLI can return before all its work is done: conmon stays until the
container's exit is handled, and its exit command (Servin's cleanup, podman's
``container cleanup``) runs on after ``run --rm`` has returned. That work is
not what the user waits for at the prompt, so it is not in the run's time;
but left running it would take CPU from the next tool's run. So after every
run the benchmark waits until no process names the tool's store on its
command line, and reports that wait apart, as the tool's background time.
"""

from __future__ import annotations

import os
import time

__all__ = ["wait_for_background"]

_POLL = 0.005
_LIMIT = 30.0


def wait_for_background(marker: str) -> float:
    """Seconds until no other process's command line contains ``marker``.

    Gives up after half a minute (a stuck helper must not hang the
    benchmark) and returns the time waited all the same.
    """
    start = time.perf_counter()
    needle = marker.encode()
    while time.perf_counter() - start < _LIMIT:
        if not _running_with(needle):
            break
        time.sleep(_POLL)
    return time.perf_counter() - start


def _running_with(needle: bytes) -> bool:
    own = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                if needle in cmdline.read():
                    return True
        except OSError:
            continue  # gone meanwhile, or a kernel thread
    return False
