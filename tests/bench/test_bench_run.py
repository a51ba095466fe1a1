"""The run benchmark still runs end to end with one round: Servin's CLI,
podman and runc each run busybox's ``true`` and the report compares them.
Only that it completes and reports is checked; its figures are not, since
timings are not a test's business."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "run" / "run.py"


def test_one_round_reports_ratios_against_podman_and_runc(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            *("--rounds", "1", "--json", str(figures), "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    lines = result.stdout.splitlines()
    for peer in ("podman", "runc"):
        assert any(
            line.startswith(f"servin/{peer} ") and "x (lower is faster)" in line
            for line in lines
        ), result.stdout
    assert any("only loopback" in line for line in lines), result.stdout
    assert any(
        line.startswith("exec true vs podman exec: skipped") for line in lines
    ), result.stdout

    summary = json.loads(figures.read_text())
    assert set(summary["tools"]) == {"servin", "podman", "runc"}
    assert set(summary["ratios"]) == {"servin/podman", "servin/runc"}
    assert all(len(tool["seconds"]) == 1 for tool in summary["tools"].values())
    # The stores and the bundle are gone afterwards.
    assert list(tmp_path.iterdir()) == [figures]


def test_missing_tool_is_named_and_fails(tmp_path: Path) -> None:
    # A PATH holding nothing hides podman, runc and conmon from the benchmark.
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(tmp_path)},
    )

    assert result.returncode == 1
    assert "missing podman, runc, conmon" in result.stderr
