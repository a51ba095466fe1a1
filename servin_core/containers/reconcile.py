"""Bringing a container's row in line with what conmon and the kernel say.

No daemon watches containers, so a row can be behind: the process exited
while no Servin process looked, conmon died, or the Servin process that was
starting the container was killed between mounting its root and recording
it as running. Each case leaves a trace that any later process can read:

- an exit file from conmon: the run is over; record its status and OOM mark;
- a run directory of a container that is not running: a start was cut
  short; kill what it made (runtime container, cgroups), unmount, forget it;
- a dead conmon without an exit file: the monitor died; the container is
  killed and marked exited.

Changing a row takes the container's lock. Readers that find the lock held
skip the container: the holder is changing it and will leave it consistent.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.containers.attachments import may_join_networks
from servin_core.containers.cgroups import remove_cgroups
from servin_core.containers.conmon import process_alive
from servin_core.containers.model import Container, State
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.rootfs import unmount_rootfs
from servin_core.containers.runtime import runtime_of
from servin_core.errors import NotFound
from servin_core.state.locks import forget_lock, try_object_lock

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "collect_exit",
    "needs_reconcile",
    "reconcile_all",
    "reconcile_locked",
    "refresh",
    "release_resources",
]

_CONMON_GONE_STATUS = 255


def _conmon_pid(paths: ContainerPaths, container: Container) -> int:
    if container.conmon_pid:
        return container.conmon_pid
    try:
        return int(paths.conmon_pidfile.read_text().strip())
    except (OSError, ValueError):
        return 0


def needs_reconcile(core: Core, container: Container) -> bool:
    """Whether the row may be behind (cheap: a few stat calls)."""
    paths = ContainerPaths.of(core.config, container.id)
    if container.state in (State.RUNNING, State.PAUSED):
        return paths.exit_file.exists() or not process_alive(
            _conmon_pid(paths, container)
        )
    return paths.run.exists()


def refresh(core: Core, container: Container) -> Container:
    """``container`` as it is now; see the module's docstring."""
    if not needs_reconcile(core, container):
        return container
    with try_object_lock(core.config.run_dir, "container", container.id) as locked:
        if not locked:
            return container
        try:
            current = core.containers.get(container.id)
        except NotFound:
            forget_lock(core.config.run_dir, "container", container.id)
            return container  # removed meanwhile
        return reconcile_locked(core, current)


def reconcile_all(core: Core) -> None:
    """Reconcile every container whose row may be behind; run when a Core
    opens, so the next command after a crash finds nothing stale.

    Only a running or paused row, or one with a run directory, can be
    behind: the others are passed over without reading their rows, since
    every command opens the core, whatever the number of containers."""
    try:
        with os.scandir(core.config.run_dir / "containers") as entries:
            with_run = {entry.name for entry in entries}
    except FileNotFoundError:
        with_run = set()
    for ident, state in core.containers.states():
        if state not in (State.RUNNING, State.PAUSED) and ident not in with_run:
            continue
        try:
            container = core.containers.get(ident)
        except NotFound:
            continue  # removed meanwhile
        if needs_reconcile(core, container):
            refresh(core, container)


def reconcile_locked(core: Core, container: Container) -> Container:
    """Reconcile ``container``, whose lock the caller holds."""
    if not needs_reconcile(core, container):
        return container
    paths = ContainerPaths.of(core.config, container.id)
    if container.state in (State.RUNNING, State.PAUSED):
        return collect_exit(core, container)
    logger = log.for_object(log.containers, "container", container.id)
    logger.info("cleaning up after an interrupted start")
    release_resources(core, container)
    shutil.rmtree(paths.run, ignore_errors=True)
    return core.containers.get(container.id)


def release_resources(core: Core, container: Container) -> None:
    """Kill and delete the runtime's container (unmounting the root
    meanwhile), remove the cgroups, leave the networks: everything a run
    holds. Safe to call on a container that holds none of it."""
    paths = ContainerPaths.of(core.config, container.id)
    deleted = runtime_of(core.config, container).delete_started(container.id)
    # The root is unmounted while the runtime starts up and deletes (lazily:
    # a process of the container still dying does not keep it busy).
    try:
        unmount_rootfs(paths)
    finally:
        deleted()

    # conmon is not waited for: once the container is dead it writes the
    # exit file and runs the exit command, which waits for the lock that our
    # caller holds, finds the run recorded and leaves.
    stuck = remove_cgroups(container.id, parent=container.config.cgroup_parent)
    if stuck:
        log.for_object(log.containers, "container", container.id).warning(
            "cgroups not removed: %s", ", ".join(map(str, stuck))
        )
    if not may_join_networks(container.config):
        return  # nothing joined: no endpoint, no pinned namespace
    # Imported here: every command that opens the core reconciles, and
    # most (exec, ps, logs) never get this far.
    from servin_core.network.attach import leave_networks

    # After the runtime's delete: no process of the container uses it now.
    leave_networks(core, container.id)


def _exit_status(paths: ContainerPaths) -> tuple[int | None, float]:
    try:
        text = paths.exit_file.read_text().strip()
        finished = paths.exit_file.stat().st_mtime
    except OSError:
        return None, time.time()
    try:
        return int(text), finished
    except ValueError:
        return None, finished


def collect_exit(core: Core, container: Container) -> Container:
    """Record the end of the current run: exit status (docker's 128+signal
    for a killed process, as conmon writes it), OOM kill, finish time; then
    release what the run held. The caller holds the lock."""
    paths = ContainerPaths.of(core.config, container.id)
    logger = log.for_object(log.containers, "container", container.id)
    status, finished = _exit_status(paths)
    error = ""
    if status is None:
        status = _CONMON_GONE_STATUS
        error = "conmon exited without recording the container's exit status"
        logger.warning("%s", error)
    oom = paths.oom_file.exists()

    release_resources(core, container)
    shutil.rmtree(paths.run, ignore_errors=True)
    logger.debug("exited with status %d%s", status, " (OOM killed)" if oom else "")
    return core.containers.update(
        container.id,
        state=State.EXITED,
        exit_code=status,
        oom_killed=oom,
        finished_at=finished,
        pid=0,
        conmon_pid=0,
        error=error,
        event="die",
        event_attributes={"name": container.name, "exitCode": str(status)},
    )
