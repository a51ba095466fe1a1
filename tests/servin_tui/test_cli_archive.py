"""save and load through the CLI: archives written to files and pipes, read
back into another store."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from cli_runner import Cli


@pytest.fixture
def imported(cli: Cli, busybox_rootfs_tar: Path) -> str:
    """The ID of busybox imported as ``busybox-test:1``."""
    return cli.ok("import", busybox_rootfs_tar, "busybox-test:1").stdout.strip()


def test_save_to_a_file_and_load_into_another_store(
    cli: Cli, imported: str, tmp_path: Path
) -> None:
    archive = tmp_path / "images.tar"
    other = Cli(tmp_path / "other")

    saved = cli.ok("save", "-o", archive, "busybox-test:1")
    loaded = other.ok("load", "-i", archive)

    assert saved.stdout == ""
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert "manifest.json" in names and "index.json" in names
    assert loaded.lines == ["Loaded image: busybox-test:1"]
    assert other.ok("images", "-q", "--no-trunc").lines == [imported]


def test_save_to_a_pipe_and_load_from_stdin(
    cli: Cli, imported: str, tmp_path: Path
) -> None:
    other = Cli(tmp_path / "other")

    saved = cli.ok("image", "save", "busybox-test:1")
    loaded = other.ok("image", "load", stdin=saved.raw_stdout)

    with tarfile.open(fileobj=io.BytesIO(saved.raw_stdout)) as tar:
        assert "manifest.json" in tar.getnames()
    assert loaded.lines == ["Loaded image: busybox-test:1"]
    assert other.ok("images", "-q", "--no-trunc").lines == [imported]


def test_save_refuses_to_write_to_a_terminal(cli: Cli, imported: str) -> None:
    result = cli.in_terminal("save", "busybox-test:1")

    assert result.code == 1
    assert "terminal" in result.stdout
    assert "manifest.json" not in result.stdout


def test_failed_save_leaves_no_file(cli: Cli, imported: str, tmp_path: Path) -> None:
    archive = tmp_path / "images.tar"

    result = cli("save", "-o", archive, "busybox-test:1", "missing:1")

    assert result.code == 1
    assert len(result.error_lines) == 1
    assert "missing:1" in result.stderr
    assert not archive.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".images.tar")]


def test_load_of_garbage_fails_and_loads_nothing(cli: Cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not an archive\n" * 64)

    from_file = cli("load", "-i", junk)
    from_stdin = cli("load", stdin=junk.read_bytes())
    missing = cli("load", "-i", tmp_path / "absent.tar")

    for result in (from_file, from_stdin, missing):
        assert result.code == 1
        assert len(result.error_lines) == 1, result.stderr
    assert "absent.tar" in missing.stderr
    assert cli.ok("images", "-q").stdout == ""
