"""The Engine API benchmark still runs end to end with one round: the
docker CLI against Servin's daemon and podman's service, and the listing
rate of both. Only that it completes, reports and cleans up is checked; its
figures are not, since timings are not a test's business."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "bench" / "api" / "run.py"


def test_one_round_reports_both_servers(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    result = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            *("--rounds", "1", "--containers", "3", "--requests", "5"),
            *("--json", str(figures), "--workdir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert "GET /containers/json with 3 containers: servin" in result.stdout
    assert "servin/podman" in result.stdout
    summary = json.loads(figures.read_text())
    assert set(summary["figures"]) == {"servin", "podman"}
    assert all(f["list_requests_per_s"] > 0 for f in summary["figures"].values())
    assert list(tmp_path.iterdir()) == [figures]
