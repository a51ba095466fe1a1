"""``run --rm`` as the benchmark runs it (bench/run): what it loads and what
it leaves. A container without networks or volumes does not need their
modules; one with an anonymous volume still gets it made and removed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    if m.startswith(("servin_core.network", "servin_core.volumes", "asyncio"))
)
print(json.dumps({"code": code, "loaded": loaded}))
"""


@pytest.fixture
def cli(tmp_path: Path, busybox_rootfs_tar: Path) -> Cli:
    cli = Cli(tmp_path / "root")
    cli.ok("import", busybox_rootfs_tar, IMAGE)
    return cli


def _in_process(cli: Cli, *args: str) -> tuple[list[str], dict[str, Any]]:
    """``servin-tui ARGS`` run by ``main.run`` in a new interpreter: its
    output lines, and its status with the modules it loaded."""
    argv = ["--root", str(cli.root), "--config", str(config_file())]
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, *argv, "--log-level", "error", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    *output, report = done.stdout.splitlines()
    result: dict[str, Any] = json.loads(report)
    assert result["code"] == 0, done.stderr
    return output, result


def _mounts_under(root: Path) -> list[str]:
    with open("/proc/mounts") as f:
        return [line for line in f if str(root) in line]


def test_run_rm_without_networks_or_volumes_loads_neither_and_leaves_nothing(
    cli: Cli,
) -> None:
    output, result = _in_process(
        cli, "run", "--rm", "--network", "none", IMAGE, "echo", "hello"
    )

    assert output == ["hello"]
    # The event loop follows the output; nothing of networks or volumes.
    assert [m for m in result["loaded"] if not m.startswith("asyncio")] == []
    assert cli.ok("ps", "-a", "-q").lines == []
    assert _mounts_under(cli.root) == []
    assert not list((cli.root / "containers").iterdir())


def test_run_detached_starts_its_container_without_an_event_loop(cli: Cli) -> None:
    output, result = _in_process(
        cli, "run", "-d", "--network", "none", IMAGE, "sleep", "60"
    )

    assert result["loaded"] == []
    assert output == cli.ok("ps", "-q", "--no-trunc").lines
    assert len(output) == 1
    cli.ok("rm", "-f", output[0])


def test_run_rm_with_an_anonymous_volume_makes_and_removes_it(cli: Cli) -> None:
    result = cli(
        "--log-level", "error", "run", "--rm", "--network", "none", "-v", "/data",
        IMAGE, "sh", "-c", "echo kept > /data/f && cat /data/f",
    )  # fmt: skip

    assert result.code == 0, result.stderr
    assert result.lines == ["kept"]
    assert cli.ok("volume", "ls", "-q").lines == []
    assert cli.ok("ps", "-a", "-q").lines == []
