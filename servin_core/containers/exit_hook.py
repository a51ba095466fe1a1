"""conmon's exit command: a small entry that decides, before importing the
core, whether there is anything left to do.

The full cleanup (cleanup.py) imports most of the core, which costs a few
hundred milliseconds of CPU. Often there is nothing for it to do, and it
would only compete for the CPU with the command the user is waiting for:
``run --rm`` in the foreground removes its container itself as soon as the
process exits. So:

- A foreground ``run --rm`` marks the container as *attached*
  (``run_dir/attached/ID``, holding its PID and the kernel's start time of
  that process) before it starts it. The exit command waits, asleep on a
  pidfd, until that process is gone; only then does it look further. If
  the CLI was killed before it removed the container, the container is
  still there and the full cleanup runs, as it would have without the mark:
  no daemonless guarantee depends on the CLI finishing.
- A container whose directories are gone has been removed: nothing to do.
- Otherwise the full cleanup runs (record the exit, unmount, restart
  policy, ``--rm`` of a detached container).

Only a few modules of the standard library are imported until the full
cleanup is needed: conmon starts this file by its path with ``python -I
-S`` (no site-packages, no ``servin_core`` package, no argparse or
pathlib), because it starts as the container exits, on the CPU that the
foreground ``run --rm`` needs for its own cleanup (about 30 ms of CPU for
an interpreter with site and the package, 10 ms without). When there is a
cleanup to do, it starts the module again with ``-m`` and the usual path.
"""

from __future__ import annotations

import os
import select
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["attached_mark", "main", "mark_attached", "unmark_attached"]

_POLL = 0.1
"""How often a waiting exit command looks whether the mark is gone."""


def attached_mark(run_dir: Path, container_id: str) -> Path:
    return run_dir / "attached" / container_id


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (tells it from a reused PID), or
    None if no such process runs."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()
    if fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode()


def mark_attached(run_dir: Path, container_id: str) -> None:
    """Record that this process removes the container after its exit."""
    mark = attached_mark(run_dir, container_id)
    mark.parent.mkdir(parents=True, exist_ok=True)
    temp = mark.with_name(f".{container_id}.tmp")
    temp.write_text(f"{os.getpid()} {_start_time(os.getpid())}\n")
    os.replace(temp, mark)


def unmark_attached(run_dir: Path | str, container_id: str) -> None:
    # Not contextlib.suppress: importing contextlib costs this stage more
    # than the rest of its imports together.
    try:  # noqa: SIM105
        os.unlink(os.path.join(run_dir, "attached", container_id))
    except FileNotFoundError:
        pass


def _wait_for_attached(mark: str) -> None:
    """Sleep until the process named in ``mark`` has exited or has removed
    the mark (it has removed the container then; a process that goes on
    living, as a test runner calling the CLI in-process does, must not keep
    us waiting)."""
    try:
        with open(mark) as f:
            pid_text, started = f.read().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return
    if _start_time(pid) != started:
        return
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        while _start_time(pid) == started and os.path.exists(mark):
            time.sleep(_POLL)
        return
    try:
        while os.path.exists(mark):
            if select.select([fd], [], [], _POLL)[0]:
                return
    finally:
        os.close(fd)


_OPTIONS = ("--data-dir", "--run-dir", "--settings", "--started-at")


def _parse(argv: list[str]) -> tuple[dict[str, str], str]:
    """The options (as conmon passes them, each with its value) and the
    container's ID; argparse would cost more than the rest of this stage."""
    options = {"--settings": "{}"}
    words = iter(argv)
    ident = ""
    for word in words:
        if word in _OPTIONS:
            options[word] = next(words, "")
        elif not word.startswith("-") and not ident:
            ident = word
        else:
            sys.exit(f"servin-exit-command: unexpected argument {word!r}")
    if not (options.get("--data-dir") and options.get("--run-dir") and ident):
        sys.exit("servin-exit-command: needs --data-dir, --run-dir and an ID")
    return options, ident


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    options, container_id = _parse(argv)
    data_dir, run_dir = options["--data-dir"], options["--run-dir"]
    mark = os.path.join(run_dir, "attached", container_id)
    if os.path.exists(mark):
        _wait_for_attached(mark)

    if not (
        os.path.exists(os.path.join(data_dir, "containers", container_id))
        or os.path.exists(os.path.join(run_dir, "containers", container_id))
    ):
        unmark_attached(run_dir, container_id)
        return

    if sys.flags.no_site:
        # Started by path without site-packages: the cleanup needs the
        # installed package, so start again as a module with the usual path.
        module = "servin_core.containers.exit_hook"
        os.execv(sys.executable, [sys.executable, "-m", module, *argv])

    from pathlib import Path

    from servin_core.containers.cleanup import run_cleanup

    started_at = options.get("--started-at")
    run_cleanup(
        Path(data_dir),
        Path(run_dir),
        options["--settings"],
        container_id,
        float(started_at) if started_at else None,
    )
    unmark_attached(run_dir, container_id)


if __name__ == "__main__":
    main(sys.argv[1:])
