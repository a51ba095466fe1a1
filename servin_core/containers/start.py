"""Starting a container: mount, spec, conmon, ``runtime start``.

The steps run under the container's lock, and each one is undone, in
reverse order, if a later one fails: a failed start leaves no mount, cgroup,
runtime container or conmon, only the row with the reason. The run directory
is made first: a start killed mid-way leaves it behind, which is how the
next Servin process knows to clean up (see reconcile.py).

Exit statuses follow docker: a command that does not exist is 127, one that
cannot be executed 126; the runtime says which only in words.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from servin_core import log
from servin_core.containers.attach_pending import run_before_start
from servin_core.containers.attachments import (
    image_config_of,
    may_join_networks,
    may_use_volumes,
)
from servin_core.containers.conmon import CreateFailed, launch
from servin_core.containers.model import Container, State
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import reconcile_locked, release_resources
from servin_core.containers.rootfs import mount_rootfs
from servin_core.containers.runtime import RuntimeError_, runtime_of
from servin_core.containers.spec import build_spec
from servin_core.errors import InvalidArgument, ServinError, Unavailable

if TYPE_CHECKING:
    from servin_core.core import Core
    from servin_core.network.attach import Joined

__all__ = ["NOT_EXECUTABLE", "NOT_FOUND", "SERVIN_FAILED", "start_locked", "status_of"]

SERVIN_FAILED = 125
NOT_EXECUTABLE = 126
NOT_FOUND = 127


def status_of(message: str) -> int:
    """docker's exit status for a process that could not be started."""
    lowered = message.lower()
    if "executable file not found" in lowered or "no such file" in lowered:
        return NOT_FOUND
    if "permission denied" in lowered or "is a directory" in lowered:
        return NOT_EXECUTABLE
    return SERVIN_FAILED


def _prepare_volumes(
    core: Core, container: Container, paths: ContainerPaths, image: dict[str, Any]
) -> list[dict[str, Any]]:
    # The volume modules only for a container that may have volumes.
    if not may_use_volumes(container.config, image):
        return []
    from servin_core.volumes.attach import prepare

    return prepare(core, container, paths.rootfs)


def _join_networks(
    core: Core, container: Container, image: dict[str, Any]
) -> Joined | None:
    """The networks joined; None for a new namespace with loopback only
    (the network modules are not imported for it)."""
    if not may_join_networks(container.config):
        return None
    from servin_core.network.attach import join_networks

    return join_networks(core, container, image)


def _write_spec(paths: ContainerPaths, spec: dict[str, Any]) -> None:
    temp = paths.spec.with_name("config.json.tmp")
    temp.write_text(json.dumps(spec, indent=1))
    os.replace(temp, paths.spec)


def _start_full_log(container: Container, paths: ContainerPaths) -> None:
    """Empty a log that earlier runs filled to the size limit, as conmon
    would have before its next line. conmon counts only what it wrote since
    it started, so without this each restart could add a limit's worth to
    the file; with it the file stays under twice the limit (see
    log_options.py)."""
    limit = container.config.log_max_size
    if limit is None:
        return
    path = container.config.log_path or paths.log
    try:
        if os.stat(path).st_size >= limit:
            # In place: a follower sees the file shrink and reads it again.
            os.truncate(path, 0)
    except FileNotFoundError:
        pass


def start_locked(
    core: Core,
    container: Container,
    *,
    restart_count: int | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> Container:
    """Start ``container``, whose lock the caller holds; ``meanwhile`` is
    called while the runtime creates it (see :func:`conmon.launch`)."""
    container = reconcile_locked(core, container)
    if container.state is State.RUNNING:
        return container
    container.state.require(
        container.state.can_start() or container.state is State.RESTARTING,
        container.name,
        "start",
    )
    paths = ContainerPaths.of(core.config, container.id)
    runtime = runtime_of(core.config, container)
    logger = log.for_object(log.containers, "container", container.id)
    started_at = time.time()

    paths.run.mkdir(parents=True, exist_ok=True)
    try:
        mount_rootfs(paths, core.snapshots, container.lowers)
        image = image_config_of(core, container)
        volumes = _prepare_volumes(core, container, paths, image)
        network = _join_networks(core, container, image)
        _write_spec(paths, build_spec(container, image, paths, volumes, network))
        _start_full_log(container, paths)
        launched = launch(core.config, container, runtime, paths, started_at, meanwhile)
        # Attaches waiting in this process connect before any output.
        run_before_start(container)
        runtime.run_sync(container.id, "start", container.id)
    except BaseException as e:
        _undo(core, container, paths)
        if isinstance(e, ServinError):
            raise _failed(core, container, e) from e
        if isinstance(e, OSError):
            reason = Unavailable("container", container.name, str(e))
            raise _failed(core, container, reason) from e
        raise

    logger.info("started (pid %d, %s)", launched.pid, runtime.name)
    return core.containers.update(
        container.id,
        state=State.RUNNING,
        pid=launched.pid,
        conmon_pid=launched.conmon_pid,
        started_at=started_at,
        exit_code=None,
        oom_killed=False,
        stopped_by_user=False,
        error="",
        restart_count=(
            container.restart_count if restart_count is None else restart_count
        ),
        event="start",
        event_attributes={"name": container.name},
    )


def _undo(core: Core, container: Container, paths: ContainerPaths) -> None:
    try:
        release_resources(core, container)
    finally:
        shutil.rmtree(paths.run, ignore_errors=True)


def _failed(core: Core, container: Container, error: ServinError) -> ServinError:
    """Record why the start failed on the row; the error to raise."""
    if isinstance(error, CreateFailed | RuntimeError_):
        message = error.output
        status = status_of(message)
    else:
        message = error.reason
        status = SERVIN_FAILED
    log.for_object(log.containers, "container", container.id).info(
        "start failed (%d): %s", status, message
    )
    state = State.CREATED if container.state is State.CREATED else State.EXITED
    core.containers.update(
        container.id, state=state, exit_code=status, error=message, pid=0,
        conmon_pid=0,
    )  # fmt: skip
    if status in (NOT_FOUND, NOT_EXECUTABLE):
        return InvalidArgument("container", container.name, message)
    if isinstance(error, CreateFailed | RuntimeError_):
        return Unavailable("container", container.name, message)
    return error
