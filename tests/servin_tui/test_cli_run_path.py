"""``run --rm`` as the benchmark runs it (bench/run): what it loads and what
it leaves. A container without networks or volumes does not need their
modules; one with an anonymous volume still gets it made and removed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import Cli
from netconfig import config_file

IMAGE = "busybox-run-path:1"

_SCRIPT = """
import json, sys
from servin_tui.cli.main import run
code = run(sys.argv[1:])
sys.stdout.flush()
loaded = sorted(
    m for m in sys.modules
    if m.startswith(("servin_core.network", "servin_core.volumes"))
)
print(json.dumps({"code": code, "loaded": loaded}))
"""


@pytest.fixture
def cli(tmp_path: Path, busybox_rootfs_tar: Path) -> Cli:
    cli = Cli(tmp_path / "root")
    cli.ok("import", busybox_rootfs_tar, IMAGE)
    return cli


def _mounts_under(root: Path) -> list[str]:
    with open("/proc/mounts") as f:
        return [line for line in f if str(root) in line]


def test_run_rm_without_networks_or_volumes_loads_neither_and_leaves_nothing(
    cli: Cli,
) -> None:
    argv = ["--root", str(cli.root), "--config", str(config_file())]
    argv += ["--log-level", "error", "run", "--rm", "--network", "none"]
    argv += [IMAGE, "echo", "hello"]
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *argv],
        capture_output=True,
        text=True,
        timeout=300,
    )

    *output, report = done.stdout.splitlines()
    result = json.loads(report)
    assert result["code"] == 0, done.stderr
    assert output == ["hello"]
    assert result["loaded"] == []
    assert cli.ok("ps", "-a", "-q").lines == []
    assert _mounts_under(cli.root) == []
    assert not list((cli.root / "containers").iterdir())


def test_run_rm_with_an_anonymous_volume_makes_and_removes_it(cli: Cli) -> None:
    result = cli(
        "--log-level", "error", "run", "--rm", "--network", "none", "-v", "/data",
        IMAGE, "sh", "-c", "echo kept > /data/f && cat /data/f",
    )  # fmt: skip

    assert result.code == 0, result.stderr
    assert result.lines == ["kept"]
    assert cli.ok("volume", "ls", "-q").lines == []
    assert cli.ok("ps", "-a", "-q").lines == []
