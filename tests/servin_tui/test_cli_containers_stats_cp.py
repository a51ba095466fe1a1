"""``stats --no-stream``, ``cp`` and ``commit`` through the real ``servin-tui``."""

from __future__ import annotations

import io
import re
import signal
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import SERVIN_TUI, Cli

IMAGE = "busybox-test:1"


@pytest.fixture
def running(cli: Cli, busybox_rootfs_tar: Path) -> Iterator[str]:
    """A running container named ``box`` with a file and a directory."""
    assert cli("import", busybox_rootfs_tar, IMAGE).code == 0
    script = "mkdir -p /d/e; echo deep > /d/e/f; echo hi > /a; exec sleep 1000"
    result = cli("run", "-d", "--name", "box", "-m", "32m", IMAGE, "sh", "-c", script)
    assert result.code == 0, result.stderr
    yield "box"
    cli("rm", "-f", "box")


def test_stats_no_stream_prints_dockers_table(cli: Cli, running: str) -> None:
    result = cli("stats", "--no-stream", running)

    assert result.code == 0, result.stderr
    header, row = result.lines
    assert header.split("   ")[:2] == ["CONTAINER ID", "NAME"]
    assert "MEM USAGE / LIMIT" in header and header.endswith("PIDS")
    assert "/ 32MiB" in row
    assert int(row.split()[-1]) >= 1


def test_stats_format_fields(cli: Cli, running: str) -> None:
    result = cli("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}")

    assert result.code == 0, result.stderr
    [line] = result.lines
    name, pids = line.split()
    assert name == running and int(pids) >= 1


def test_stats_streams_successive_tables_into_a_pipe(cli: Cli, running: str) -> None:
    command = [SERVIN_TUI, "--root", cli.root, "--log-level", "error", "stats"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        try:
            lines = [process.stdout.readline() for _ in range(4)]
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(timeout=60)

    assert lines[0].startswith("CONTAINER ID") and lines[2].startswith("CONTAINER ID")
    assert lines[1].split()[1] == lines[3].split()[1] == running


def test_cp_out_and_in_with_dockers_syntax(
    cli: Cli, running: str, tmp_path: Path
) -> None:
    eventually_copied = cli("cp", f"{running}:/d", tmp_path / "d")
    assert eventually_copied.code == 0, eventually_copied.stderr
    assert (tmp_path / "d" / "e" / "f").read_text() == "deep\n"

    (tmp_path / "new.txt").write_text("from the host")
    assert cli("cp", tmp_path / "new.txt", f"{running}:/d/").code == 0
    streamed = cli("cp", f"{running}:/d/new.txt", "-")

    assert streamed.code == 0
    with tarfile.open(fileobj=io.BytesIO(streamed.raw_stdout)) as tar:
        member = tar.extractfile("new.txt")
        assert member is not None and member.read() == b"from the host"


def test_cp_of_a_missing_path_fails_naming_it(cli: Cli, running: str) -> None:
    result = cli("cp", f"{running}:/nope", "/tmp/")

    assert result.code != 0
    assert "/nope" in result.stderr and "no such file" in result.stderr


def test_commit_prints_the_image_id_and_the_image_runs(cli: Cli, running: str) -> None:
    result = cli("commit", "-m", "snapshot", "-c", "ENV MARK=yes", running, "snap:1")

    assert result.code == 0, result.stderr
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", result.stdout.strip())
    seen = cli("run", "--rm", "snap:1", "sh", "-c", "cat /a /d/e/f; echo $MARK")
    assert seen.stdout == "hi\ndeep\nyes\n"


def test_cp_keeps_whiteout_names_as_plain_files(
    cli: Cli, running: str, tmp_path: Path
) -> None:
    """``.wh.`` names mean deletions in a layer, not in cp: a container's
    file so named must not remove the host's file of the other name."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        info = tarfile.TarInfo("e/.wh.g")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"odd"))
    assert cli("cp", "-", f"{running}:/d", stdin=archive.getvalue()).code == 0
    host = tmp_path / "out" / "d" / "e"
    host.mkdir(parents=True)
    (host / "g").write_text("host-own")

    result = cli("cp", f"{running}:/d", tmp_path / "out")

    assert result.code == 0, result.stderr
    assert (host / "g").read_text() == "host-own"
    assert (host / ".wh.g").read_text() == "odd"
    assert (host / "f").read_text() == "deep\n"
