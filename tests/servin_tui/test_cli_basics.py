"""The command line itself: help, global options, configuration errors,
exit codes and messages for images that do not exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli_runner import SERVIN_TUI, Cli

COMMANDS = ["images", "pull", "push", "tag", "rmi", "inspect", "history"]
COMMANDS += ["login", "logout", "save", "load", "import", "image"]


def test_help_lists_every_command(cli: Cli) -> None:
    result = cli.run("--help")

    assert result.code == 0
    for option in ("--root", "--config", "--log-level"):
        assert option in result.stdout
    listed = {line.split()[0] for line in result.lines if line.startswith("    ")}
    assert set(COMMANDS) <= listed


def test_no_subcommand_prints_help_and_succeeds(cli: Cli) -> None:
    result = cli.run()

    assert result.code == 0
    assert result.stdout.startswith("usage: servin-tui")


def test_image_group_has_docker_aliases(cli: Cli) -> None:
    result = cli.run("image", "--help")

    assert result.code == 0
    listed = " ".join(result.lines)
    for name in ("ls", "pull", "push", "rm", "tag", "inspect", "save", "load"):
        assert f" {name} " in listed
    for name in ("import", "prune", "history"):
        assert f" {name} " in listed


def test_usage_errors_exit_2(cli: Cli) -> None:
    assert cli.run("frobnicate").code == 2
    assert cli.run("image").code == 2
    assert cli.run("--log-level", "loud", "images").code == 2
    assert cli("rmi").code == 2


def test_python_dash_m_runs_the_same_cli(tmp_path: Path) -> None:
    process = subprocess.run(
        [sys.executable, "-m", "servin_tui", "--root", str(tmp_path), "images"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )

    assert process.returncode == 0, process.stderr
    assert process.stdout.split() == [
        "REPOSITORY",
        "TAG",
        "IMAGE",
        "ID",
        "CREATED",
        "SIZE",
    ]


def test_root_keeps_all_state_under_the_directory(cli: Cli) -> None:
    assert not cli.root.exists()

    cli.ok("images")

    assert (cli.root / "servin.db").is_file()
    assert (cli.root / "run").is_dir()


def test_unusable_root_is_a_one_line_error_naming_it(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")

    result = Cli(not_a_directory)("images")

    assert result.code == 1
    assert len(result.error_lines) == 1, result.stderr
    assert str(not_a_directory) in result.stderr


def test_images_on_an_empty_store(cli: Cli) -> None:
    table = cli.ok("images")
    quiet = cli.ok("images", "-q")
    as_json = cli.ok("image", "ls", "--format", "json")

    assert table.lines == ["REPOSITORY   TAG       IMAGE ID   CREATED   SIZE"]
    assert table.stderr == ""
    assert quiet.stdout == ""
    assert as_json.stdout == ""


def test_unknown_image_is_a_one_line_error_naming_it(cli: Cli) -> None:
    for args in (
        ["rmi", "no-such-image"],
        ["image", "rm", "no-such-image"],
        ["history", "no-such-image"],
        ["tag", "no-such-image", "other:1"],
        ["image", "inspect", "no-such-image"],
    ):
        result = cli(*args)

        assert result.code == 1, args
        assert len(result.error_lines) == 1, result.stderr
        assert result.error_lines[0].startswith("Error: ")
        assert "no-such-image" in result.stderr


def test_inspect_of_unknown_image_prints_an_empty_array(cli: Cli) -> None:
    result = cli("inspect", "no-such-image")

    assert result.code == 1
    assert result.stdout.strip() == "[]"
    assert result.error_lines == ["Error: image no-such-image: No such image"]


def test_config_with_unknown_key_names_file_and_key(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "servin.toml"
    config.write_text('default_runtime = "crun"\nmax_downloads = 3\n')

    result = cli("images", global_options=["--config", str(config)])

    assert result.code == 1
    assert len(result.error_lines) == 1
    assert str(config) in result.stderr
    assert "max_downloads" in result.stderr


def test_config_with_bad_value_or_syntax_or_missing_file(
    cli: Cli, tmp_path: Path
) -> None:
    bad_value = tmp_path / "value.toml"
    bad_value.write_text('default_runtime = "kata"\n')
    bad_syntax = tmp_path / "syntax.toml"
    bad_syntax.write_text("default_runtime = \n")
    missing = tmp_path / "missing.toml"

    for path, words in (
        (bad_value, "default_runtime"),
        (bad_syntax, "TOML"),
        (missing, "does not exist"),
    ):
        result = cli("images", global_options=["--config", str(path)])

        assert result.code == 1, path
        assert len(result.error_lines) == 1, result.stderr
        assert str(path) in result.stderr
        assert words in result.stderr


def test_valid_config_is_accepted(cli: Cli, tmp_path: Path) -> None:
    config = tmp_path / "servin.toml"
    config.write_text(
        'default_runtime = "runc"\ninsecure_registries = ["registry.lan:5000"]\n'
        '[registries."docker.io"]\nmirrors = ["127.0.0.1:5000"]\n'
    )

    result = cli("images", global_options=["--config", str(config)])

    assert result.code == 0, result.stderr


def test_bad_filter_names_the_filter(cli: Cli) -> None:
    result = cli("images", "--filter", "colour=blue")

    assert result.code == 1
    assert "colour=blue" in result.stderr


def test_prune_without_stdin_removes_nothing_unless_forced(cli: Cli) -> None:
    declined = cli("image", "prune")
    forced = cli("image", "prune", "-f")

    assert declined.code == 1
    assert "not confirmed" in declined.stderr
    assert forced.code == 0
    assert forced.lines == ["Total reclaimed space: 0B"]


def test_listing_images_loads_no_network_or_ui_library(tmp_path: Path) -> None:
    """Start-up cost: a command that talks to no registry must not import
    aiohttp, Textual or rich."""
    script = (
        "import sys\n"
        "from servin_tui.cli.main import run\n"
        f"code = run(['--root', {str(tmp_path)!r}, 'images', '-q'])\n"
        "heavy = [m for m in ('aiohttp', 'textual', 'rich') if m in sys.modules]\n"
        "print(code, heavy)\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert process.stdout.strip() == "0 []"


def test_console_script_is_installed() -> None:
    assert SERVIN_TUI.is_file()
