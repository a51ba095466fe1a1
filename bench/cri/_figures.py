"""The figures of a run: medians per runtime and per call, memory, ratios.

A ratio is Servin's median over containerd's, so below 1 means Servin was
faster. Medians, not means: one pod disturbed by the machine should not
move the result. The issue's goal, Servin's pod start no slower than
containerd's, is a start ratio of at most 1.
"""

from __future__ import annotations

import statistics
from typing import Any

from _pods import START, TEARDOWN

__all__ = ["GOAL", "Measured", "format_report", "summarize"]

GOAL = 1.0
"""Servin's pod start over containerd's, at most (issue 6)."""
_MS = 1000.0
_KIB_PER_MIB = 1024.0


class Measured:
    """Everything one runtime's pods and daemon gave."""

    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = {name: [] for name in START + TEARDOWN}
        self.start: list[float] = []
        self.teardown: list[float] = []
        self.memory: dict[str, tuple[int, int]] = {}
        """KiB of the daemon and of its helpers, by moment (idle, loaded)."""

    def started(self, took: dict[str, float]) -> float:
        for name, seconds in took.items():
            self.calls[name].append(seconds)
        self.start.append(sum(took.values()))
        return self.start[-1]

    def torn_down(self, took: dict[str, float]) -> float:
        for name, seconds in took.items():
            self.calls[name].append(seconds)
        self.teardown.append(sum(took.values()))
        return self.teardown[-1]


def _spread(runs: list[float]) -> dict[str, Any]:
    return {
        "seconds": runs,
        "median": statistics.median(runs),
        "min": min(runs),
        "max": max(runs),
    }


def summarize(measured: dict[str, Measured], notes: list[str]) -> dict[str, Any]:
    """Everything measured, in the shape written by ``--json``."""
    runtimes = {
        name: {
            "start": _spread(m.start),
            "teardown": _spread(m.teardown),
            "calls": {call: statistics.median(runs) for call, runs in m.calls.items()},
            "memory_kib": {
                moment: {"daemon": daemon, "helpers": helpers}
                for moment, (daemon, helpers) in m.memory.items()
            },
        }
        for name, m in measured.items()
    }
    ours, theirs = runtimes["servin"], runtimes["containerd"]
    ratios = {
        "start": ours["start"]["median"] / theirs["start"]["median"],
        "teardown": ours["teardown"]["median"] / theirs["teardown"]["median"],
    }
    return {
        "pods": len(measured["servin"].start),
        "runtimes": runtimes,
        "ratios": ratios,
        "goal": {"start_at_most": GOAL, "met": ratios["start"] <= GOAL},
        "notes": notes,
    }


def format_report(summary: dict[str, Any]) -> str:
    """The tables printed at the end of a run."""
    pods = summary["pods"]
    lines = [
        f"{pods} pods per runtime, interleaved",
        "start: RunPodSandbox + CreateContainer + StartContainer"
        " (busybox sleep 3600); teardown: StopPodSandbox + RemovePodSandbox",
        *summary["notes"],
        "",
        f"{'runtime':<11} {'start':>9} {'min':>9} {'max':>9}"
        f" {'teardown':>9} {'min':>9} {'max':>9}",
    ]
    for name, entry in summary["runtimes"].items():
        start, down = entry["start"], entry["teardown"]
        lines.append(
            f"{name:<11}"
            + "".join(f" {start[k] * _MS:>7.1f}ms" for k in ("median", "min", "max"))
            + "".join(f" {down[k] * _MS:>7.1f}ms" for k in ("median", "min", "max"))
        )
    lines += ["", "median per call, on the client (Servin's handler, from its log):"]
    handlers = summary["runtimes"]["servin"].get("handlers", {})
    for call in START + TEARDOWN:
        shown = []
        for name, entry in summary["runtimes"].items():
            figure = f"{name} {entry['calls'][call] * _MS:.1f}ms"
            if name == "servin" and call in handlers:
                figure += f" ({handlers[call] * _MS:.1f}ms)"
            shown.append(figure)
        lines.append(f"  {call:<17} {', '.join(shown)}")
    lines += ["", "memory (RSS, MiB): daemon + helpers (conmon / shims)"]
    for name, entry in summary["runtimes"].items():
        shown = ", ".join(
            f"{moment} {m['daemon'] / _KIB_PER_MIB:.1f} + "
            f"{m['helpers'] / _KIB_PER_MIB:.1f}"
            for moment, m in entry["memory_kib"].items()
        )
        lines.append(f"  {name:<11} {shown}")
    lines.append("")
    ratios, goal = summary["ratios"], summary["goal"]
    verdict = "met" if goal["met"] else "NOT met"
    lines.append(
        f"servin/containerd start {ratios['start']:.2f}x (lower is faster);"
        f" goal at most {goal['start_at_most']:.2f}x: {verdict}"
    )
    lines.append(
        f"servin/containerd teardown {ratios['teardown']:.2f}x (lower is faster)"
    )
    return "\n".join(lines)
