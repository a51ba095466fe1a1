"""Figures of the benchmark: per tool median, min and max, and Servin's ratios.

A ratio is Servin's median over the other tool's median for the same
command (``servin/podman`` and ``servin/runc`` for run,
``servin-exec/podman-exec`` for exec), so below 1 means Servin was faster.
Medians, not means: one run disturbed by the machine should not move the
result. Each ratio is shown beside the issue's goal for it, where it sets
one, so a reader sees at once whether the goal is met.
"""

from __future__ import annotations

import statistics
from typing import Any

__all__ = ["COMMANDS", "GOALS", "RATIOS", "format_report", "summarize"]

COMMANDS = {
    "run": "run --rm busybox true",
    "exec": "exec ID true, into a busybox `sleep 3600` started with `run -d`"
    " and the run's flags, once per store before the rounds",
}

RATIOS = {
    "servin/podman": ("servin", "podman"),
    "servin/runc": ("servin", "runc"),
    "servin-exec/podman-exec": ("servin-exec", "podman-exec"),
}
"""Each ratio's numerator and denominator: tools timing the same command."""

GOALS = {"servin/podman": 1.0, "servin/runc": 2.0}
"""The issue's goals for run: faster than podman, within 2x of the bare
runtime. It sets none for exec, so that ratio is shown without one."""

_MS = 1000.0


def summarize(
    seconds: dict[str, list[float]],
    background: dict[str, list[float]],
    notes: list[str],
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
        name: medians[ours] / medians[theirs]
        for name, (ours, theirs) in RATIOS.items()
        if ours in medians and theirs in medians
    }
    return {
        "commands": COMMANDS,
        "rounds": len(seconds["servin"]),
        "tools": tools,
        "ratios": ratios,
        "goals": {
            name: {"below": goal, "met": ratios[name] < goal}
            for name, goal in GOALS.items()
            if name in ratios
        },
        "notes": notes,
    }


def format_report(summary: dict[str, Any]) -> str:
    """The table printed at the end of a run."""
    lines = [
        f"{summary['rounds']} rounds per tool, interleaved",
        *(f"{name}: {command}" for name, command in summary["commands"].items()),
        *summary["notes"],
        "",
        f"{'tool':<12} {'median':>10} {'min':>10} {'max':>10} {'background':>12}",
    ]
    for name, entry in summary["tools"].items():
        lines.append(
            f"{name:<12} {entry['median'] * _MS:>8.1f}ms {entry['min'] * _MS:>8.1f}ms"
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
    return "\n".join(lines)
