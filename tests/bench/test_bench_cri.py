"""The CRI benchmark still runs end to end with one pod per runtime: Servin's
headless daemon and containerd each start, pull, run and tear down a pod
through the same gRPC client, and the report compares them. Only that it
completes, reports and cleans up is checked; its figures are not, since
timings are not a test's business."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "cri" / "run.py"


def test_one_pod_each_reports_the_ratio_and_cleans_up(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    # Servin's sockets live under the bench's directory: a unix socket's
    # path must fit in 108 bytes, pytest's tmp_path may not leave room.
    workdir = Path(tempfile.mkdtemp(prefix="bcri-", dir="/tmp"))

    try:
        result = subprocess.run(
            [
                sys.executable,
                str(SCRIPT),
                *("--pods", "1", "--json", str(figures), "--workdir", str(workdir)),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        left = list(workdir.iterdir())
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    assert result.returncode == 0, result.stderr + result.stdout
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("servin/containerd start ")
        and "x (lower is faster); goal at most 1.00x: " in line
        for line in lines
    ), result.stdout
    assert any(line.startswith("servin/containerd teardown ") for line in lines)

    summary = json.loads(figures.read_text())
    assert summary["pods"] == 1
    assert set(summary["runtimes"]) == {"servin", "containerd"}
    for runtime in summary["runtimes"].values():
        assert len(runtime["start"]["seconds"]) == 1
        assert len(runtime["teardown"]["seconds"]) == 1
        assert set(runtime["memory_kib"]) == {"idle", "1 pods"}
        assert runtime["memory_kib"]["idle"]["daemon"] > 0
    # Servin's handlers' own durations, read from its daemon's debug log.
    assert set(summary["runtimes"]["servin"]["handlers"]) == {
        "RunPodSandbox",
        "CreateContainer",
        "StartContainer",
        "StopPodSandbox",
        "RemovePodSandbox",
    }
    assert set(summary["ratios"]) == {"start", "teardown"}
    assert isinstance(summary["goal"]["met"], bool)

    # The daemons, their pods, mounts, bridge and directories are gone.
    assert left == []
    assert _processes_naming(str(workdir)) == []
    assert not _mounts_under(workdir)
    assert not Path("/sys/class/net", summary["network"]["bridge"]).exists()


def test_missing_tool_is_named_and_fails(tmp_path: Path) -> None:
    # A PATH holding nothing hides containerd and runc from the benchmark.
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--pods", "1"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": str(tmp_path)},
    )

    assert result.returncode == 1
    assert "missing containerd, containerd-shim-runc-v2, runc" in result.stderr


def _mounts_under(path: Path) -> list[str]:
    with open("/proc/self/mountinfo") as mountinfo:
        return [line for line in mountinfo if str(path) in line]


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
