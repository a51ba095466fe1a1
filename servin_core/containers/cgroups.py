"""The container's cgroup directories, for cleaning up after the runtime.

The runtime makes and removes them; Servin only looks for ones left behind
(a runtime killed between making the cgroup and recording its state) and
removes them, killing what is still inside. cgroup v1 has one directory per
controller hierarchy, v2 one in the unified tree: both are walked the same.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from servin_core.containers.paths import cgroup_path

__all__ = ["CGROUP_ROOT", "cgroup_dirs", "remove_cgroups"]

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_dirs(
    container_id: str, root: Path = CGROUP_ROOT, parent: str | None = None
) -> list[Path]:
    """The container's cgroup directories that exist, v1 and v2 alike."""
    relative = cgroup_path(container_id, parent).lstrip("/")
    found = []
    if (root / "cgroup.controllers").exists():
        candidates = [root / relative]
    else:
        candidates = [
            Path(entry.path) / relative for entry in os.scandir(root) if entry.is_dir()
        ]
    for path in candidates:
        if path.is_dir():
            found.append(path)
    return found


def _pids(path: Path) -> list[int]:
    try:
        return [int(pid) for pid in (path / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def remove_cgroups(
    container_id: str, root: Path = CGROUP_ROOT, parent: str | None = None
) -> list[Path]:
    """Kill what is left in the container's cgroups and remove them; returns
    the directories that could not be removed."""
    dirs = cgroup_dirs(container_id, root, parent)
    for path in dirs:
        freezer = path / "freezer.state"
        if freezer.exists():
            # A frozen process cannot die: thaw it first.
            freezer.write_text("THAWED")
        for pid in _pids(path):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    stuck = []
    for path in dirs:
        for _ in range(100):
            try:
                path.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                # Killed processes leave the cgroup a moment after the signal.
                time.sleep(0.01)
        else:
            stuck.append(path)
    return stuck
