"""``run -i``, ``run -it``, ``attach`` and ``start -ai`` through the real
``servin-tui`` against real busybox containers: piped input reaching its
end, a terminal that has the user's size and follows it, detaching with
the keys and attaching again, and a clear error for a stopped container."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import SERVIN_TUI, Cli
from test_cli_containers_exec import QuietCli, Terminal, _set_size

IMAGE = "busybox-attach:1"
ALONE = ("--network", "none")
"""The tests are about stdio: no network, whose setup depends on the
host's routes (and has tests of its own)."""


@pytest.fixture
def cli(tmp_path: Path, busybox_rootfs_tar: Path) -> Iterator[Cli]:
    """A store with the image; every container is removed after."""
    cli = QuietCli(tmp_path / "root")
    cli.ok("import", busybox_rootfs_tar, IMAGE)
    yield cli
    remaining = cli("ps", "-a", "-q", "--no-trunc").lines
    if remaining:
        cli("rm", "-f", *remaining)


def test_run_i_passes_piped_input_to_its_end(cli: Cli) -> None:
    script = "cat; echo done; echo oops >&2; exit 4"
    result = cli(
        "run", "-i", "--rm", *ALONE, IMAGE, "sh", "-c", script, stdin=b"a\nb\n"
    )

    assert (result.code, result.stdout, result.stderr) == (4, "a\nb\ndone\n", "oops\n")
    assert cli("ps", "-a", "-q").lines == []


def test_run_i_passes_an_interrupt_on_to_the_container(cli: Cli) -> None:
    script = 'trap "echo interrupted; exit 7" INT; echo ready;'
    script += " while :; do sleep 0.1; done"
    options = ("--log-level", "error", "--root", str(cli.root))
    process = subprocess.Popen(
        [SERVIN_TUI, *options, "run", "-i", "--rm", *ALONE, IMAGE, "sh", "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline() == b"ready\n"
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode == 7, errors
    assert rest == b"interrupted\n"
    assert cli("ps", "-a", "-q").lines == []


def test_run_it_has_the_terminals_size_and_follows_it(cli: Cli) -> None:
    script = "stty size; while read line; do stty size; done; exit 7"
    terminal = Terminal(
        cli.root,
        "run",
        "-it",
        "--rm",
        *ALONE,
        IMAGE,
        "sh",
        "-c",
        script,
        rows=30,
        columns=100,
    )
    try:
        terminal.wait_for(rb"30 100\r\n")

        _set_size(terminal.main, 41, 123)
        # SIGWINCH and the typed line race to the container: ask until the
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


def test_detach_keys_leave_it_running_and_attach_comes_back(cli: Cli) -> None:
    first = Terminal(
        cli.root,
        "run",
        "-it",
        "--name",
        "shell",
        *ALONE,
        IMAGE,
        "sh",
        rows=24,
        columns=80,
    )
    try:
        first.type(b"echo one-$((20+1))\r")
        first.wait_for(b"one-21")
        first.type(b"\x10\x11")  # ctrl-p ctrl-q
    finally:
        assert first.close() == 0
    assert cli("ps", "--format", "{{.Names}} {{.State}}").lines == ["shell running"]

    # Other keys, in docker's syntax, detach a later attach.
    second = Terminal(
        cli.root, "attach", "--detach-keys", "ctrl-a,x", "shell", rows=24, columns=80
    )
    try:
        second.type(b"echo two-$((40+2))\r")
        second.wait_for(b"two-42")
        second.type(b"\x01x")
    finally:
        assert second.close() == 0
    assert b"one-21" not in second.shown

    third = Terminal(cli.root, "attach", "shell", rows=24, columns=80)
    try:
        third.type(b"echo three-$((60+3)); exit 5\r")
        third.wait_for(b"three-63")
    finally:
        assert third.close() == 5
    assert cli("ps", "-a", "--format", "{{.Names}} {{.State}}").lines == [
        "shell exited"
    ]


def test_attach_without_a_tty_shows_new_output_apart(cli: Cli) -> None:
    script = (
        'while read l; do echo got-$l; echo err-$l >&2; [ "$l" = y ] && exit 3; done'
    )
    cli.ok("run", "-d", "-i", "--name", "loop", *ALONE, IMAGE, "sh", "-c", script)

    result = cli("attach", "loop", stdin=b"x\ny\n")

    assert (result.code, result.stdout, result.stderr) == (
        3,
        "got-x\ngot-y\n",
        "err-x\nerr-y\n",
    )


def test_start_ai_passes_input_and_returns_the_status(cli: Cli) -> None:
    cli.ok("create", "-i", "--name", "later", *ALONE, IMAGE, "sh", "-c", "cat; exit 2")

    result = cli("start", "-a", "-i", "later", stdin=b"q\n")

    assert (result.code, result.stdout) == (2, "q\n")


def test_attach_to_a_stopped_container_names_it(cli: Cli) -> None:
    cli.ok("create", "--name", "idle", *ALONE, IMAGE, "true")

    result = cli("attach", "idle")
    bad_keys = cli("attach", "--detach-keys", "ctrl-", "idle")

    assert result.code == 125
    assert "idle" in result.stderr and "not running" in result.stderr
    assert bad_keys.code == 125 and "ctrl-" in bad_keys.stderr


def test_run_it_without_a_terminal_is_refused_before_anything_is_made(
    cli: Cli,
) -> None:
    result = cli("run", "-it", "--name", "piped", *ALONE, IMAGE, "sh", stdin=b"ls\n")

    assert result.code == 1
    assert "the input device is not a TTY" in result.stderr
    assert cli.ok("ps", "-a", "-q").stdout == ""
