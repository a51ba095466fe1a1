"""Helpers for the container lifecycle tests: an image to run, a leak check
and polling for what another process does."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from servin_core.containers.cgroups import cgroup_dirs
from servin_core.containers.paths import ContainerPaths
from servin_core.core import Core
from servin_core.network.netns import netns_path

T = TypeVar("T")


def eventually(probe: Callable[[], T], what: str, timeout: float = 60.0) -> T:
    """Poll ``probe`` until it returns something true (a deadline for a
    broken test, not a performance threshold)."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def mounts_of(container_id: str) -> list[str]:
    with open("/proc/mounts") as f:
        return [line for line in f if container_id in line]


def processes_naming(text: str) -> list[int]:
    """Live (not zombie) processes whose command line contains ``text``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline and stat[stat.rindex(b")") + 2 :][:1] != b"Z":
            found.append(int(entry))
    return found


def leaks(core: Core, container_id: str) -> dict[str, object]:
    """What a container that is not running must not hold."""
    paths = ContainerPaths.of(core.config, container_id)
    runtime_states = [
        str(p) for p in (core.config.run_dir / "runtime").glob(f"*/{container_id}")
    ]
    return {
        "mounts": mounts_of(container_id),
        "cgroups": [str(p) for p in cgroup_dirs(container_id)],
        "runtime state": runtime_states,
        "run dir": paths.run.exists(),
        "netns": netns_path(core.config.run_dir, container_id).exists(),
        "processes": _processes_after_exit(container_id),
    }


def _processes_after_exit(container_id: str) -> list[int]:
    """conmon and its exit command, once they have had time to finish what
    follows an exit (conmon waits for the exit command)."""
    deadline = time.monotonic() + 30
    while True:
        found = processes_naming(f"--cid\0{container_id}") + processes_naming(
            "cleanup\0--config"
        )
        found = [pid for pid in found if _names(pid, container_id)]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _names(pid: int, container_id: str) -> bool:
    try:
        return container_id.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


NO_LEAKS: dict[str, object] = {
    "mounts": [],
    "cgroups": [],
    "runtime state": [],
    "run dir": False,
    "netns": False,
    "processes": [],
}


def gone(core: Core, container_id: str) -> dict[str, object]:
    """Everything a removed container must have left behind: nothing."""
    paths = ContainerPaths.of(core.config, container_id)
    found = leaks(core, container_id)
    found["data dir"] = paths.data.exists()
    found["rows"] = core.db.query(
        "SELECT id FROM containers WHERE id = ?", (container_id,)
    )
    found["holds"] = core.db.query(
        "SELECT holder_id FROM image_holds WHERE holder_id = ?", (container_id,)
    )
    found["lock file"] = (
        core.config.run_dir / "locks" / f"container-{container_id}"
    ).exists()
    return found


GONE: dict[str, object] = {
    **NO_LEAKS,
    "data dir": False,
    "rows": [],
    "holds": [],
    "lock file": False,
}


async def import_busybox(
    core: Core, rootfs_tar: Path, extra: Path | None = None
) -> str:
    """Import the busybox root file system (and an extra layer) as an image."""
    from servin_core.images.importer import import_image

    with rootfs_tar.open("rb") as base:
        if extra is None:
            image = await import_image(core, base, "servin-test/busybox:latest")
        else:
            with extra.open("rb") as more:
                image = await import_image(
                    core, [base, more], "servin-test/busybox:latest"
                )
    return image.id


async def remove_all(core: Core) -> None:
    """Force-remove every container (test teardown)."""
    from servin_core.containers.lifecycle import remove

    for container in core.containers.list():
        await remove(core, container.id, force=True)
