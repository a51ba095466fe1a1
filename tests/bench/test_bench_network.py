"""The network benchmark still runs end to end with one round, prints its
ratios and removes what it made (stores, bridge, podman's network). Its
figures are not checked: timings are not a test's business."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "network" / "run.py"


def test_one_round_reports_the_added_latency_and_cleans_up(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    links_before = set(os.listdir("/sys/class/net"))

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
    for name in ("servin-net/servin-none", "podman-net/podman-none"):
        assert any(line.startswith(f"{name} ") for line in lines), result.stdout
    assert any(line.startswith("servin: a network adds ") for line in lines)
    summary = json.loads(figures.read_text())
    assert set(summary["tools"]) == {
        "servin-net", "servin-none", "podman-net", "podman-none"
    }  # fmt: skip
    assert os.listdir(tmp_path) == ["figures.json"]
    new_links = set(os.listdir("/sys/class/net")) - links_before
    assert not [link for link in new_links if link.startswith("svbench")]
    networks = subprocess.run(
        ["podman", "network", "ls", "--format", "{{.Name}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert not [n for n in networks if n.startswith("servin-bench-")]
