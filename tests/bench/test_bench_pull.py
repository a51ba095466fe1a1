"""The pull benchmark still runs end to end, on an image small enough to be
quick: the real registry, Servin's CLI, podman and skopeo. Only that it
completes and reports is checked; its figures are not, since timings are
not a test's business."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "pull" / "run.py"


def test_small_benchmark_reports_ratios_against_both_peers(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            *("--layers", "2", "--layer-mb", "1", "--rounds", "1"),
            *("--json", str(figures), "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    lines = result.stdout.splitlines()
    for peer in ("podman", "skopeo"):
        assert any(
            line.startswith(f"servin/{peer} ") and "x (lower is faster)" in line
            for line in lines
        ), result.stdout
    summary = json.loads(figures.read_text())
    assert set(summary["tools"]) == {"servin", "podman", "skopeo"}
    assert set(summary["ratios"]) == {"servin/podman", "servin/skopeo"}
    assert summary["layers"] == 2
    assert all(len(tool["seconds"]) == 1 for tool in summary["tools"].values())
    # The temporary registry and stores are gone afterwards.
    assert list(tmp_path.iterdir()) == [figures]


def test_missing_peer_is_named_and_fails(tmp_path: Path) -> None:
    # A PATH holding nothing hides podman and skopeo from the benchmark.
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(tmp_path)},
    )

    assert result.returncode == 1
    assert "missing podman, skopeo" in result.stderr
