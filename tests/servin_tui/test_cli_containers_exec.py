"""``exec``, ``top`` and ``diff`` through the real ``servin-tui`` against real
busybox containers: output, docker's exit statuses, a terminal that
resizes, and clear errors for a container that is not running."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import SERVIN_TUI, Cli, QuietCli

IMAGE = "busybox-exec:1"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return QuietCli(tmp_path / "root")


@pytest.fixture
def box(cli: Cli, busybox_rootfs_tar: Path) -> Iterator[str]:
    """A running container named ``box``; every container is removed after."""
    cli.ok("import", busybox_rootfs_tar, IMAGE)
    cli.ok("run", "-d", "--name", "box", "-e", "FROM_RUN=1", IMAGE, "sleep", "600")
    yield "box"
    remaining = cli("ps", "-a", "-q", "--no-trunc").lines
    if remaining:
        cli("rm", "-f", *remaining)


def test_exec_prints_and_exits_with_the_commands_status(cli: Cli, box: str) -> None:
    echoed = cli("exec", box, "echo", "hello", "-n")
    failed = cli("exec", box, "sh", "-c", "echo out; echo err >&2; exit 3")

    assert (echoed.code, echoed.stdout, echoed.stderr) == (0, "hello -n\n", "")
    assert (failed.code, failed.stdout, failed.stderr) == (3, "out\n", "err\n")


def test_exec_env_user_and_workdir(cli: Cli, box: str) -> None:
    result = cli(
        "exec", "-e", "GREETING=hi", "-u", "nobody", "-w", "/tmp", box,
        "sh", "-c", 'echo "$GREETING $FROM_RUN"; id; pwd',
    )  # fmt: skip

    assert result.code == 0
    assert result.lines == ["hi 1", "uid=65534(nobody) gid=65534(nogroup)", "/tmp"]


def test_interactive_exec_gets_stdin_to_its_end(cli: Cli, box: str) -> None:
    result = cli("exec", "-i", box, "sh", "-c", "cat; echo end", stdin=b"one\ntwo\n")

    assert result.code == 0
    assert result.lines == ["one", "two", "end"]


def test_missing_command_is_127_and_not_executable_126(cli: Cli, box: str) -> None:
    missing = cli("exec", box, "no-such-command")
    not_executable = cli("exec", box, "/etc/passwd")

    assert missing.code == 127
    assert missing.stdout == ""
    assert len(missing.error_lines) == 1
    assert missing.error_lines[0].startswith("Error: container box: ")
    assert "no-such-command" in missing.stderr
    assert not_executable.code == 126


def test_detached_exec_returns_at_once_and_its_work_is_done(cli: Cli, box: str) -> None:
    result = cli("exec", "-d", box, "sh", "-c", "echo made > /tmp/marker")

    assert (result.code, result.stdout) == (0, "")
    deadline = time.monotonic() + 60  # for a broken test only
    while cli("exec", box, "cat", "/tmp/marker").stdout != "made\n":
        assert time.monotonic() < deadline, "the detached command never ran"


def test_exec_in_a_stopped_container_exits_125(cli: Cli, box: str) -> None:
    cli.ok("run", "--name", "done", IMAGE, "true")

    result = cli("exec", "done", "echo", "hi")
    unknown = cli("exec", "nothing-here", "echo", "hi")

    assert result.code == 125
    assert result.error_lines == ["Error: container done: is not running"]
    assert unknown.code == 125
    assert "nothing-here" in unknown.stderr


def test_top_lists_the_containers_sleep(cli: Cli, box: str) -> None:
    result = cli("top", box)
    chosen = cli("top", box, "-o", "pid,args")

    assert result.code == 0
    titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert result.lines[0].split() == titles
    assert [line.split(None, 7)[7] for line in result.lines[1:]] == ["sleep 600"]
    assert [line.split()[1:] for line in chosen.lines] == [
        ["COMMAND"],
        ["sleep", "600"],
    ]


def test_diff_shows_what_the_container_added_changed_and_deleted(
    cli: Cli, box: str
) -> None:
    script = "echo x > /tmp/new; echo more >> /etc/passwd; rm /etc/group"
    cli.ok("exec", box, "sh", "-c", script)

    result = cli("diff", box)

    assert result.code == 0
    assert result.lines == [
        "C /etc",
        "D /etc/group",
        "C /etc/passwd",
        "C /tmp",
        "A /tmp/new",
    ]


def _set_size(fd: int, rows: int, columns: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))


class Terminal:
    """``servin-tui ARGS`` on a pseudo-terminal that is its controlling
    terminal, as a user's shell would run it."""

    def __init__(self, root: Path, *args: str, rows: int, columns: int) -> None:
        self.main, child = pty.openpty()
        _set_size(self.main, rows, columns)

        def take_terminal() -> None:
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.process = subprocess.Popen(
            [str(SERVIN_TUI), "--root", str(root), "--log-level", "error", *args],
            stdin=child,
            stdout=child,
            stderr=child,
            preexec_fn=take_terminal,
        )
        os.close(child)
        self.shown = b""

    def wait_for(self, pattern: bytes, count: int = 1) -> None:
        """Read until ``pattern`` has shown ``count`` times (a deadline for a
        broken test only)."""
        deadline = time.monotonic() + 60
        while len(re.findall(pattern, self.shown)) < count:
            assert time.monotonic() < deadline, f"no {pattern!r} in {self.shown!r}"
            ready, _, _ = select.select([self.main], [], [], 1)
            if ready:
                try:
                    self.shown += os.read(self.main, 4096)
                except OSError:
                    break
        assert len(re.findall(pattern, self.shown)) >= count, self.shown

    def type(self, text: bytes) -> None:
        os.write(self.main, text)

    def close(self) -> int:
        while True:
            ready, _, _ = select.select([self.main], [], [], 60)
            try:
                if not ready or not os.read(self.main, 4096):
                    break
            except OSError:  # EIO: the command closed the terminal
                break
        os.close(self.main)
        return self.process.wait(timeout=60)


def test_exec_with_a_tty_follows_the_window_size_and_keeps_the_status(
    cli: Cli, box: str
) -> None:
    script = "tty; while read line; do stty size; done; exit 7"
    terminal = Terminal(
        cli.root, "exec", "-it", box, "sh", "-c", script, rows=30, columns=100
    )
    try:
        terminal.wait_for(rb"/dev/pts/\d+")
        terminal.type(b"first\r")
        terminal.wait_for(rb"30 100\r\n")

        _set_size(terminal.main, 41, 123)
        # SIGWINCH and the typed line race to servin-tui: ask until the
        # answer has the new size.
        answers = 1
        while b"41 123" not in terminal.shown and answers < 50:
            terminal.type(b"again\r")
            answers += 1
            terminal.wait_for(rb"\d+ \d+\r\n", answers)
        assert b"41 123\r\n" in terminal.shown
        terminal.type(b"\x04")  # ctrl-D: the end of input for the shell's read
    finally:
        status = terminal.close()

    assert status == 7
