"""Medians per size, as a table whose rows show the growth, and the
issue's goals checked at 1,000 containers."""

from __future__ import annotations

import statistics
from typing import Any

from _headless import KEYS

__all__ = ["CUT", "GOAL_SIZE", "format_report", "summarize"]

GOAL_SIZE = 1000
_GOAL_PAINT = 1.0
_GOAL_KEY = 0.1

Figures = dict[int, dict[str, list[float]]]
"""Per size, per measure (``paint``, ``tmux``, a key's label): seconds;
and under ``CUT``, 1.0 for each tmux launch whose first paint cut the names
short, else 0.0."""

CUT = "tmux names cut"


def summarize(figures: Figures) -> dict[str, Any]:
    """Every run and the median, min and max of each measure, by size."""
    sizes: dict[str, Any] = {}
    for size, measures in figures.items():
        sizes[str(size)] = {
            name: {
                "median": statistics.median(runs),
                "min": min(runs),
                "max": max(runs),
                "runs": runs,
            }
            for name, runs in measures.items()
            if runs and name != CUT
        }
        if measures.get(CUT):
            sizes[str(size)][CUT] = {
                "launches": int(sum(measures[CUT])),
                "of": len(measures[CUT]),
            }
    return {"sizes": sizes, "goals": _goals(figures)}


def format_report(summary: dict[str, Any]) -> str:
    columns = ["paint", "tmux", *(label for label, _, _ in KEYS)]
    head = ["containers", "first paint", "in tmux", *(label for label, _, _ in KEYS)]
    widths = [max(len(h), 9) for h in head]
    lines = [
        "medians over the rounds; first paint in s, keys in ms "
        "(key pressed to the frame that shows its effect)",
        "  ".join(h.rjust(w) for h, w in zip(head, widths, strict=True)),
    ]
    for size, measures in summary["sizes"].items():
        cells = [size]
        for name in columns:
            if name not in measures:
                cells.append("-")
            elif name in ("paint", "tmux"):
                cells.append(f"{measures[name]['median']:.3f}")
            else:
                cells.append(f"{measures[name]['median'] * 1000:.1f}")
        lines.append("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    cut = [
        f"{size}: {m[CUT]['launches']} of {m[CUT]['of']}"
        for size, m in summary["sizes"].items()
        if CUT in m and m[CUT]["launches"]
    ]
    if cut:
        lines.append(
            "in tmux, the first paint cut the NAMES column short (until the next"
            f" age refresh) in {', '.join(cut)} launches"
        )
    lines += summary["goals"]
    return "\n".join(lines)


def _goals(figures: Figures) -> list[str]:
    paint = f"goal: first paint under {_GOAL_PAINT:.0f} s at {GOAL_SIZE:,} containers"
    key = f"goal: key response under {_GOAL_KEY * 1000:.0f} ms at {GOAL_SIZE:,}"
    measures = figures.get(GOAL_SIZE)
    if measures is None:
        return [f"{paint}: not measured", f"{key}: not measured"]

    paints = [
        (what, statistics.median(measures[name]))
        for name, what in (("paint", "headless"), ("tmux", "in tmux"))
        if measures.get(name)
    ]
    keys = [(label, statistics.median(measures[label])) for label, _, _ in KEYS]
    paint_results = [f"{what} {s:.3f} s {_met(s, _GOAL_PAINT)}" for what, s in paints]
    key_results = [f"{what} {s * 1000:.0f} ms {_met(s, _GOAL_KEY)}" for what, s in keys]
    return [
        f"{paint}: {', '.join(paint_results)}",
        f"{key}: {', '.join(key_results)}",
    ]


def _met(seconds: float, goal: float) -> str:
    return "met" if seconds < goal else "MISSED"
