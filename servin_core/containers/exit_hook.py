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

Only the standard library is imported until the full cleanup is needed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import select
import sys
import time
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


def unmark_attached(run_dir: Path, container_id: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        attached_mark(run_dir, container_id).unlink()


def _wait_for_attached(mark: Path) -> None:
    """Sleep until the process named in ``mark`` has exited or has removed
    the mark (it has removed the container then; a process that goes on
    living, as a test runner calling the CLI in-process does, must not keep
    us waiting)."""
    try:
        pid_text, started = mark.read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return
    if _start_time(pid) != started:
        return
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        while _start_time(pid) == started and mark.exists():
            time.sleep(_POLL)
        return
    try:
        while mark.exists():
            if select.select([fd], [], [], _POLL)[0]:
                return
    finally:
        os.close(fd)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="servin-exit-command")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument(
        "--settings", default="{}", help="other non-default settings, as JSON"
    )
    parser.add_argument("--started-at", type=float, default=None)
    parser.add_argument("container_id")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    container_id: str = args.container_id
    mark = attached_mark(args.run_dir, container_id)
    if mark.exists():
        _wait_for_attached(mark)

    containers = "containers", container_id
    if not (
        args.data_dir.joinpath(*containers).exists()
        or args.run_dir.joinpath(*containers).exists()
    ):
        unmark_attached(args.run_dir, container_id)
        return

    from servin_core.containers.cleanup import run_cleanup

    run_cleanup(
        args.data_dir, args.run_dir, args.settings, container_id, args.started_at
    )
    unmark_attached(args.run_dir, container_id)


if __name__ == "__main__":
    main(sys.argv[1:])
