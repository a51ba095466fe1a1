"""Waiting, between two timed runs, for a tool's background work to end.

A CLI can return before all its work is done: conmon stays until the
container's exit is handled, and its exit command (Servin's cleanup, podman's
``container cleanup``) runs on after ``run --rm`` has returned. That work is
not what the user waits for at the prompt, so it is not in the run's time;
but left running it would take CPU from the next tool's run. So after every
run the benchmark waits until no process names the tool's store on its
command line, and reports that wait apart, as the tool's background time.

The containers that ``exec`` goes into run for the whole benchmark, and
their conmon names the store too; those processes are listed once, when
the container has started (:func:`processes_with`), and not waited for.
"""

from __future__ import annotations

import os
import time

__all__ = ["processes_with", "wait_for_background"]

_POLL = 0.005
_LIMIT = 30.0


def wait_for_background(marker: str, ignore: frozenset[int] = frozenset()) -> float:
    """Seconds until no other process's command line contains ``marker``,
    apart from the processes in ``ignore``.

    Gives up after half a minute (a stuck helper must not hang the
    benchmark) and returns the time waited all the same.
    """
    start = time.perf_counter()
    while time.perf_counter() - start < _LIMIT:
        if not processes_with(marker) - ignore:
            break
        time.sleep(_POLL)
    return time.perf_counter() - start


def processes_with(*needles: str) -> frozenset[int]:
    """The other processes whose command line contains every one of
    ``needles``."""
    own = os.getpid()
    wanted = [needle.encode() for needle in needles]
    found = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                text = cmdline.read()
        except OSError:
            continue  # gone meanwhile, or a kernel thread
        if all(needle in text for needle in wanted):
            found.add(int(entry.name))
    return frozenset(found)
