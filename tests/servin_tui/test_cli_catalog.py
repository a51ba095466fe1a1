"""The catalog the parser is built from: it names every command the modules
define, with their help, and a command line imports only its own command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from servin_tui.cli import catalog, parser
from servin_tui.cli.catalog import Group

_TABLES: dict[Group, tuple[catalog.Entry, ...]] = {
    "top": catalog.TOP_LEVEL,
    "container": catalog.CONTAINER_GROUP,
    "image": catalog.IMAGE_GROUP,
    "volume": catalog.VOLUME_GROUP,
    "network": catalog.NETWORK_GROUP,
}


@pytest.mark.parametrize("group", list(_TABLES))
def test_catalog_lists_every_registered_command_with_its_help(group: Group) -> None:
    listed = {entry.names: entry for entry in _TABLES[group]}

    registered = list(catalog.registered(group))

    missing = [names for names, _ in registered if names not in listed]
    assert missing == [], "add these commands to servin_tui/cli/catalog.py"
    for names, command in registered:
        entry = listed[names]
        assert catalog.load(entry, group) is command
        assert entry.help == command.help
    assert len(listed) == len(registered)


def _modules_after(argv: list[str]) -> list[str]:
    script = (
        "import sys\n"
        "from servin_tui.cli.main import run\n"
        "try:\n"
        f"    run({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('servin_tui.cli.')))\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    modules: list[str] = eval(process.stdout.splitlines()[-1])
    return modules


def test_help_imports_no_command_module_and_version_no_metadata() -> None:
    modules = _modules_after(["--help"])

    assert not [m for m in modules if m.split(".")[-1].startswith("containers")]
    assert "servin_tui.cli.images" not in modules


def test_a_command_imports_its_own_module_only(tmp_path: object) -> None:
    modules = _modules_after(["--root", str(tmp_path), "image", "ls", "-q"])

    assert "servin_tui.cli.images" in modules
    assert "servin_tui.cli.containers_run" not in modules
    assert "servin_tui.cli.archive" not in modules


def test_a_command_the_catalog_does_not_list_yet_still_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = tuple(e for e in catalog.TOP_LEVEL if e.names != ("logs",))
    monkeypatch.setattr(catalog, "TOP_LEVEL", kept)
    from servin_tui.cli import containers_logs

    argv = ["--root", "/nonexistent", "logs", "-n", "3", "web"]
    args = parser.build_parser(argv).parse_args(argv)

    assert args.run is containers_logs.COMMANDS[0].run
    assert args.container == "web"
