"""CPU and memory of running containers over the last minute.

The backend gives raw counters (servin_core.containers.stats.Sample); CPU %
is the change between two of them, computed as ``docker stats`` does
(servin_core's ``compute``). One sample a second per shown container
keeps a minute of history, which the list draws as a few block characters
and the detail pane as Textual sparklines.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

from servin_core._dataclass import dataclass, field
from servin_core.containers.model import Container
from servin_core.containers.stats import Sample, compute

__all__ = ["HISTORY", "StatsTracker", "Usage", "text_sparkline", "usage_cells"]

HISTORY = 60
"""Samples kept per container: a minute at one a second."""

_BLOCKS = "▁▂▃▄▅▆▇█"
_ROW_SPARKLINE = 8
_CPU_FLOOR = 1.0
"""Seconds a row's sparkline shows (the detail pane shows the minute)."""


@dataclass
class Usage:
    """One container's last minute."""

    cpu: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    """CPU %, oldest first (100 is one CPU's worth)."""
    memory: deque[int] = field(default_factory=lambda: deque(maxlen=HISTORY))
    """Bytes in use, oldest first."""
    memory_limit: int = 0
    last: Sample | None = None


class StatsTracker:
    """The usage of the containers sampled, by full ID."""

    def __init__(self) -> None:
        self.usage: dict[str, Usage] = {}

    def add(
        self, containers: Mapping[str, Container], samples: Mapping[str, Sample]
    ) -> None:
        """Take new ``samples``; the first of a container gives its memory,
        the second also its CPU %."""
        for ident, sample in samples.items():
            container = containers.get(ident)
            if container is None:
                continue
            usage = self.usage.setdefault(ident, Usage())
            if usage.last is not None:
                usage.cpu.append(compute(container, usage.last, sample).cpu_percent)
            usage.memory.append(sample.memory_usage)
            usage.memory_limit = sample.memory_limit
            usage.last = sample

    def keep_only(self, idents: Iterable[str]) -> None:
        """Forget every container but these (the others stopped or left)."""
        keep = set(idents)
        for ident in [i for i in self.usage if i not in keep]:
            del self.usage[ident]

    def get(self, ident: str) -> Usage | None:
        return self.usage.get(ident)


def text_sparkline(
    values: Sequence[float], width: int, top: float | None = None
) -> str:
    """The last ``width`` values as block characters, scaled to ``top``
    (the largest value when None); blank when there is nothing yet."""
    shown = list(values)[-width:]
    if not shown:
        return ""
    peak = top if top is not None else max(shown)
    if peak <= 0:
        return _BLOCKS[0] * len(shown)
    last = len(_BLOCKS) - 1
    return "".join(
        _BLOCKS[min(last, max(0, round(value / peak * last)))] for value in shown
    )


def usage_cells(usage: Usage) -> tuple[tuple[str, str], tuple[float, int]]:
    """A row's CPU % and MEM cells (a short sparkline after the CPU), and
    what sorting compares for them."""
    from servin_tui.cli.containers_stats import binary_size

    cpu = usage.cpu[-1] if usage.cpu else 0.0
    memory = usage.memory[-1] if usage.memory else 0
    # Full height is at least 1% of a CPU: an idle container's noise
    # (0.01% then 0.02%) stays flat instead of looking like a load.
    top = max([_CPU_FLOOR, *usage.cpu])
    spark = text_sparkline(usage.cpu, _ROW_SPARKLINE, top)
    cpu_text = f"{cpu:.1f}% {spark}" if usage.cpu else ""
    return (cpu_text, binary_size(memory) if usage.memory else ""), (cpu, memory)
