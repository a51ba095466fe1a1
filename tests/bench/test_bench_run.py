"""The run benchmark still runs end to end with one round: Servin's CLI,
podman and runc each run busybox's ``true``, Servin and podman each exec
``true`` into a running container, and the report compares them. Only that
it completes, reports and cleans up is checked; its figures are not, since
timings are not a test's business."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "run" / "run.py"


def test_one_round_reports_run_and_exec_ratios(tmp_path: Path) -> None:
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
    assert any(
        line.startswith("servin-exec/podman-exec ") and "x (lower is faster)" in line
        for line in lines
    ), result.stdout
    assert any("--network none" in line for line in lines), result.stdout

    summary = json.loads(figures.read_text())
    assert set(summary["tools"]) == {
        "servin",
        "podman",
        "runc",
        "servin-exec",
        "podman-exec",
    }
    assert set(summary["ratios"]) == {
        "servin/podman",
        "servin/runc",
        "servin-exec/podman-exec",
    }
    assert all(len(tool["seconds"]) == 1 for tool in summary["tools"].values())
    # The stores and the bundle are gone afterwards, and so are the
    # containers exec went into: no process names the stores any more.
    assert list(tmp_path.iterdir()) == [figures]
    assert _processes_naming(str(tmp_path)) == []


def _processes_naming(text: str) -> list[str]:
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or a kernel thread
        if text in command:
            found.append(command)
    return found


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
