"""Running the real ``servin-tui`` command, as a user would, in a temporary root.

A module of its own (not conftest.py) so that tests can import it by a name
no other test folder uses.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from netconfig import config_file

__all__ = ["SERVIN_TUI", "Cli", "QuietCli", "Result", "converse"]

# The console script installed beside the interpreter that runs the tests
# (.venv/bin/servin-tui).
SERVIN_TUI = Path(sys.executable).parent / "servin-tui"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    raw_stdout: bytes

    @property
    def lines(self) -> list[str]:
        return self.stdout.splitlines()

    @property
    def error_lines(self) -> list[str]:
        return self.stderr.splitlines()


class Cli:
    """``servin-tui --root ROOT ...`` run as a subprocess, stdin closed unless
    ``stdin`` is given."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def __call__(
        self,
        *args: str | Path,
        stdin: bytes | None = None,
        global_options: Sequence[str] = (),
    ) -> Result:
        # The session's own default network first: a test's --config wins.
        config = ["--config", str(config_file())]
        return self.run(
            "--root", str(self.root), *config, *global_options, *args, stdin=stdin
        )

    def in_terminal(self, *args: str | Path) -> Result:
        """Run with stdin and stdout on a pseudo-terminal (through util-linux
        ``script``), with ``--root`` added; stdout and stderr come back mixed."""
        command = shlex.join(
            [
                str(SERVIN_TUI),
                "--root",
                str(self.root),
                "--config",
                str(config_file()),
                *map(str, args),
            ]
        )
        process = subprocess.run(
            ["script", "-qec", command, "/dev/null"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=300,
        )
        text = process.stdout.decode(errors="replace")
        return Result(process.returncode, text, "", process.stdout)

    def run(self, *args: str | Path, stdin: bytes | None = None) -> Result:
        """The command with exactly ``args`` (no ``--root`` added)."""
        process = subprocess.run(
            [str(SERVIN_TUI), *map(str, args)],
            input=stdin,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            timeout=300,
        )
        return Result(
            process.returncode,
            process.stdout.decode(errors="replace"),
            process.stderr.decode(errors="replace"),
            process.stdout,
        )

    def ok(self, *args: str | Path, stdin: bytes | None = None) -> Result:
        """Run, and fail the test with the output if the command failed."""
        result = self(*args, stdin=stdin)
        assert result.code == 0, f"{args} exited {result.code}:\n{result.stderr}"
        return result


class QuietCli(Cli):
    """The CLI with the core's warnings off: only the commands' own output
    and errors reach stderr (the runtime's one-line note that it falls back
    from crun to runc on this machine would otherwise precede them)."""

    def __call__(
        self,
        *args: str | Path,
        stdin: bytes | None = None,
        global_options: Sequence[str] = ("--log-level", "error"),
    ) -> Result:
        return super().__call__(*args, stdin=stdin, global_options=global_options)


def converse(
    args: Sequence[str | Path], answers: Sequence[tuple[str, str]]
) -> tuple[int, str]:
    """Run ``servin-tui ARGS`` on a pseudo-terminal that is its controlling
    terminal, typing each answer once its prompt has appeared; returns the
    exit status and everything the terminal showed."""
    import fcntl
    import os
    import pty
    import select
    import termios

    def take_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    main_fd, child_fd = pty.openpty()
    process = subprocess.Popen(
        [str(SERVIN_TUI), *map(str, args)],
        stdin=child_fd,
        stdout=child_fd,
        stderr=child_fd,
        preexec_fn=take_terminal,
    )
    os.close(child_fd)
    shown = b""
    pending = list(answers)
    while True:
        ready, _, _ = select.select([main_fd], [], [], 60)
        if not ready:
            process.kill()
            break
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
        if pending and shown.decode(errors="replace").endswith(pending[0][0]):
            os.write(main_fd, pending.pop(0)[1].encode() + b"\n")
    os.close(main_fd)
    return process.wait(timeout=60), shown.decode(errors="replace")
