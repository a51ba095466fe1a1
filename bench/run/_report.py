"""Figures of the benchmark: per tool median, min and max, and Servin's ratios.

A ratio is Servin's median over the other tool's median, so below 1 means
Servin was faster. Medians, not means: one run disturbed by the machine
should not move the result. Each ratio is shown beside the issue's goal for
it, so a reader sees at once whether the goal is met.
"""

from __future__ import annotations

import statistics
from typing import Any

__all__ = ["GOALS", "format_report", "summarize"]

GOALS = {"servin/podman": 1.0, "servin/runc": 2.0}
"""The issue's goals: faster than podman, within 2x of the bare runtime."""

_MS = 1000.0


def summarize(
    seconds: dict[str, list[float]],
    background: dict[str, list[float]],
    notes: list[str],
    exec_note: str,
) -> dict[str, Any]:
    """Everything measured, in the shape written by ``--json``.

    ``background`` holds, per run, how long the tool's processes went on
    after its command returned (conmon, exit commands): not in the run's
    time, shown apart."""
    medians = {name: statistics.median(runs) for name, runs in seconds.items()}
    tools = {
        name: {
            "seconds": runs,
            "median": medians[name],
            "min": min(runs),
            "max": max(runs),
            "background_seconds": background[name],
            "background_median": statistics.median(background[name]),
        }
        for name, runs in seconds.items()
    }
    ratios = {
        f"servin/{peer}": medians["servin"] / medians[peer]
        for peer in medians
        if peer != "servin"
    }
    return {
        "command": "run --rm busybox true",
        "rounds": len(seconds["servin"]),
        "tools": tools,
        "ratios": ratios,
        "goals": {
            name: {"below": goal, "met": ratios[name] < goal}
            for name, goal in GOALS.items()
            if name in ratios
        },
        "notes": notes,
        "exec": exec_note,
    }


def format_report(summary: dict[str, Any]) -> str:
    """The table printed at the end of a run."""
    lines = [
        f"{summary['command']}: {summary['rounds']} rounds per tool, interleaved",
        *summary["notes"],
        "",
        f"{'tool':<8} {'median':>10} {'min':>10} {'max':>10} {'background':>12}",
    ]
    for name, entry in summary["tools"].items():
        lines.append(
            f"{name:<8} {entry['median'] * _MS:>8.1f}ms {entry['min'] * _MS:>8.1f}ms"
            f" {entry['max'] * _MS:>8.1f}ms {entry['background_median'] * _MS:>10.1f}ms"
        )
    lines.append(
        "(background: median time the tool's processes ran on after it"
        " returned, not counted)"
    )
    lines.append("")
    for name, ratio in summary["ratios"].items():
        line = f"{name} {ratio:.2f}x (lower is faster)"
        goal = summary["goals"].get(name)
        if goal is not None:
            verdict = "met" if goal["met"] else "NOT met"
            line += f"; goal below {goal['below']:.2f}x: {verdict}"
        lines.append(line)
    lines.append("")
    lines.append(summary["exec"])
    return "\n".join(lines)
