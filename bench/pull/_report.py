"""Figures of the benchmark: per tool median, min and max, and Servin's ratios.

A ratio is Servin's median over the peer's median, so below 1 means Servin
was faster. Medians, not means: one run disturbed by the machine should not
move the result.
"""

from __future__ import annotations

import statistics
from typing import Any

from _image import MIB, BenchImage
from _peers import Run

__all__ = ["format_report", "summarize"]


def summarize(
    image: BenchImage, layers: int, layer_mb: int, runs: list[Run], stores: str
) -> dict[str, Any]:
    """Everything measured, in the shape written by ``--json``."""
    tools: dict[str, dict[str, Any]] = {}
    for run in runs:
        entry = tools.setdefault(run.tool, {"seconds": [], "stored_bytes": []})
        entry["seconds"].append(run.seconds)
        entry["stored_bytes"].append(run.stored_bytes)
    for entry in tools.values():
        seconds = entry["seconds"]
        entry["median"] = statistics.median(seconds)
        entry["min"] = min(seconds)
        entry["max"] = max(seconds)

    ratios = {
        f"servin/{peer}": tools["servin"]["median"] / tools[peer]["median"]
        for peer in tools
        if peer != "servin" and "servin" in tools
    }
    return {
        "reference": image.reference,
        "manifest_digest": image.manifest_digest,
        "layers": layers,
        "layer_mb": layer_mb,
        "files": image.files,
        "compressed_bytes": image.compressed_bytes,
        "unpacked_bytes": image.unpacked_bytes,
        "rounds": len(next(iter(tools.values()))["seconds"]) if tools else 0,
        "store": stores,
        "tools": tools,
        "ratios": ratios,
    }


def format_report(summary: dict[str, Any]) -> str:
    """The table printed at the end of a run."""
    lines = [
        f"pull of {summary['reference']}: {summary['layers']} layers,"
        f" {summary['files']} files,"
        f" {summary['compressed_bytes'] / MIB:.1f} MiB compressed,"
        f" {summary['unpacked_bytes'] / MIB:.1f} MiB unpacked",
        f"{summary['rounds']} rounds, each run pulling into {summary['store']}",
        "",
        f"{'tool':<8} {'median':>9} {'min':>9} {'max':>9} {'stored':>11}",
    ]
    for name, entry in summary["tools"].items():
        stored = max(entry["stored_bytes"]) / MIB
        lines.append(
            f"{name:<8} {entry['median']:>8.2f}s {entry['min']:>8.2f}s"
            f" {entry['max']:>8.2f}s {stored:>7.1f} MiB"
        )
    lines.append("")
    for name, ratio in summary["ratios"].items():
        lines.append(f"{name} {ratio:.2f}x (lower is faster)")
    return "\n".join(lines)
