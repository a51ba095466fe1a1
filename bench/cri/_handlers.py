"""How long Servin's own handlers took, read from its daemon's log.

At debug level the CRI's instrumentation layer (servin_cri/instrument.py)
logs every call's duration when it ends. Set beside the client's figure for
the same call, it tells the handler's work from what gRPC, the socket and
the client add.
"""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from _pods import START, TEARDOWN

__all__ = ["handler_medians"]

_DONE = re.compile(r"\[rpc=(\w+)[^\]]*\] done in ([0-9.]+) ms$")


def handler_medians(log: Path, count: int) -> dict[str, float]:
    """Each timed call's median in seconds, over the last ``count`` times
    it ended in ``log`` (the timed pods: the untimed warm-up pod came
    first, and the cleanup after them found no pod left)."""
    seen: dict[str, list[float]] = {name: [] for name in START + TEARDOWN}
    with log.open(errors="replace") as lines:
        for line in lines:
            found = _DONE.search(line.rstrip())
            if found and found[1] in seen:
                seen[found[1]].append(float(found[2]) / 1000)
    return {
        name: statistics.median(times[-count:]) for name, times in seen.items() if times
    }
