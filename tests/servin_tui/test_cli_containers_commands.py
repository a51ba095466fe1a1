"""The container commands as the command line offers them: names, the
``container`` group's docker aliases, and a light start-up."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from cli_runner import Cli

TOP_LEVEL = ["run", "create", "start", "stop", "restart", "kill", "rm", "ps"]
TOP_LEVEL += ["logs", "wait", "pause", "unpause", "rename", "inspect", "container"]
GROUP = [*TOP_LEVEL[:-1], "ls", "list", "remove", "prune"]


def test_help_lists_container_commands_and_the_group_has_dockers_names(
    cli: Cli,
) -> None:
    top = cli.run("--help")
    group = cli.run("container", "--help")

    listed = {line.split()[0] for line in top.lines if line.startswith("    ")}
    assert set(TOP_LEVEL) <= listed
    words = set(re.split(r"[\s(),]+", group.stdout))
    assert set(GROUP) <= words


def test_run_help_keeps_dash_h_for_the_host_name(cli: Cli) -> None:
    result = cli.run("run", "--help")

    assert result.code == 0
    assert "-h HOSTNAME, --hostname HOSTNAME" in result.stdout


def test_listing_containers_loads_no_network_or_ui_library(tmp_path: Path) -> None:
    """Start-up cost: ``ps`` and ``ps -a`` need neither aiohttp nor Textual."""
    script = (
        "import sys\n"
        "from servin_tui.cli.main import run\n"
        f"root = {str(tmp_path)!r}\n"
        "codes = [run(['--root', root, 'ps', *a]) for a in ([], ['-a'])]\n"
        "heavy = [m for m in ('aiohttp', 'textual', 'rich') if m in sys.modules]\n"
        "print(codes, heavy)\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert process.stdout.splitlines()[-1] == "[0, 0] []"


def test_bad_flag_value_of_create_exits_125_and_creates_nothing(cli: Cli) -> None:
    result = cli("create", "--cpu-shares", "many", "busybox")

    assert result.code == 125
    assert result.error_lines == ["Error: --cpu-shares many: not a whole number"]
    assert cli("ps", "-a", "-q").lines == []
