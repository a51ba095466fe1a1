"""The TUI benchmark still runs end to end on a tiny store: it creates the
containers, launches the app headless (and in tmux), presses the measured
keys, and prints one line of medians per size and the issue's goals. Only
that it completes and reports is checked; its figures are not, since timings
are not a test's business."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "tui" / "run.py"
KEYS = ["down", "sort", "reverse", "to images", "to containers"]


def test_tiny_sizes_report_medians_and_goals(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            *("--sizes", "3,5", "--rounds", "1"),
            *("--json", str(figures), "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    lines = result.stdout.splitlines()
    at = next(n for n, line in enumerate(lines) if line.split()[:1] == ["containers"])
    assert lines[at].split()[:3] == ["containers", "first", "paint"], result.stdout
    # One row per size: the count, both first paints, then each key's median.
    rows = [line.split() for line in lines[at + 1 : at + 3]]
    assert [row[0] for row in rows] == ["3", "5"], result.stdout
    assert all(len(row) == 3 + len(KEYS) for row in rows), result.stdout
    assert all(float(cell) > 0 for row in rows for cell in row[1:]), result.stdout
    assert any(
        line.startswith("goal: first paint under 1 s at 1,000 containers")
        for line in lines
    ), result.stdout
    assert any(
        line.startswith("goal: key response under 100 ms at 1,000") for line in lines
    ), result.stdout

    summary = json.loads(figures.read_text())
    assert set(summary["sizes"]) == {"3", "5"}
    for measures in summary["sizes"].values():
        assert set(measures) - {"tmux names cut"} == {"paint", "tmux", *KEYS}
        assert all(len(m["runs"]) == 1 for k, m in measures.items() if k in KEYS)
    # The temporary store is gone; only the figures remain.
    assert [p.name for p in tmp_path.iterdir()] == ["figures.json"]
