"""What runs after a container's process exits, with no daemon: the full
cleanup behind conmon's exit command (exit_hook.py, which calls
:func:`run_cleanup` when there is something to do).

It records the exit (unless a ``stop`` in another process already did),
releases what the run held, then applies the restart policy, or removes the
container if it was created with ``--rm``. The run it was launched for is
named by its start time: a cleanup that arrives after the container was
started again leaves the new run alone.

Restarts back off as docker's do (100 ms, doubling), in the ``restarting``
state, with the lock released while waiting so that ``stop`` and ``rm`` can
interrupt them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.containers.model import Container, State
from servin_core.containers.reconcile import reconcile_locked
from servin_core.containers.remove import remove_locked
from servin_core.containers.start import start_locked
from servin_core.errors import NotFound, ServinError
from servin_core.state.locks import forget_lock, object_lock

if TYPE_CHECKING:
    from servin_core.config import Config
    from servin_core.core import Core

__all__ = ["cleanup", "cleanup_sync", "main", "run_cleanup", "should_restart"]

_MAX_BACKOFF_STEPS = 6


def should_restart(container: Container) -> bool:
    """Whether the policy restarts ``container`` after the exit recorded."""
    policy = container.config.restart
    if container.stopped_by_user or policy.name == "no":
        return False
    if policy.name in ("always", "unless-stopped"):
        return True
    if container.exit_code == 0:
        return False
    return policy.maximum_retry == 0 or container.restart_count < policy.maximum_retry


def _locked_step(core: Core, container_id: str, started_at: float | None) -> float:
    """Record the exit and decide; the back-off before a restart, else -1."""
    with object_lock(core.config.run_dir, "container", container_id):
        try:
            container = core.containers.get(container_id)
        except NotFound:
            # Removed while we waited: the lock file we made is ours to go.
            forget_lock(core.config.run_dir, "container", container_id)
            return -1
        container = reconcile_locked(core, container)
        if started_at is not None and container.started_at != started_at:
            return -1
        if container.state is not State.EXITED:
            return -1
        if should_restart(container):
            core.containers.update(container_id, state=State.RESTARTING)
            steps = min(container.restart_count, _MAX_BACKOFF_STEPS)
            return 0.1 * float(2**steps)
        if container.config.auto_remove:
            remove_locked(core, container, force=False)
        return -1


def _restart(core: Core, container_id: str) -> None:
    with object_lock(core.config.run_dir, "container", container_id):
        try:
            container = core.containers.get(container_id)
        except NotFound:
            forget_lock(core.config.run_dir, "container", container_id)
            return
        if container.state is not State.RESTARTING:
            return  # stopped or removed while backing off
        try:
            start_locked(core, container, restart_count=container.restart_count + 1)
        except ServinError as e:
            log.for_object(log.containers, "container", container_id).warning(
                "restart failed: %s", e
            )
            if container.config.auto_remove:
                current = core.containers.get(container_id)
                remove_locked(core, current, force=True)


def cleanup_sync(core: Core, container_id: str, started_at: float | None) -> None:
    delay = _locked_step(core, container_id, started_at)
    if delay < 0:
        return
    time.sleep(delay)
    _restart(core, container_id)


async def cleanup(
    core: Core, container_id: str, *, started_at: float | None = None
) -> None:
    """Record the exit of ``container_id``'s run started at ``started_at``
    (any run if None), unmount, apply its restart policy or ``--rm``."""
    await asyncio.to_thread(cleanup_sync, core, container_id, started_at)


def run_cleanup(
    data_dir: Path,
    run_dir: Path,
    settings: str,
    container_id: str,
    started_at: float | None,
) -> None:
    """The exit command's work, in a process of its own: ``settings`` are
    the configuration's other non-default values as JSON."""
    from servin_core.config import config_from_data

    values = {**json.loads(settings), "data_dir": data_dir, "run_dir": run_dir}
    _cleanup_with(config_from_data(values, "--settings"), container_id, started_at)


def _cleanup_with(config: Config, container_id: str, started_at: float | None) -> None:
    from servin_core.core import Core

    log.configure("warning")
    with Core.open(config) as core, contextlib.suppress(NotFound):
        cleanup_sync(core, container_id, started_at)


def main(argv: list[str] | None = None) -> None:
    """The exit command of containers started before exit_hook.py existed,
    which pass the whole configuration as JSON."""
    from servin_core.config import Config

    parser = argparse.ArgumentParser(prog="servin-cleanup")
    parser.add_argument("--config", required=True, help="the Config as JSON")
    parser.add_argument("--started-at", type=float, default=None)
    parser.add_argument("container_id")
    args = parser.parse_args(argv)
    config = Config.from_json(args.config)
    _cleanup_with(config, args.container_id, args.started_at)


if __name__ == "__main__":
    main()
