"""Stopping, killing, pausing and resuming a running container.

``stop`` sends the container's stop signal (or the one its caller names,
as ``docker stop -s`` does), waits for conmon's exit file for the timeout,
then sends SIGKILL, and records the exit itself (the exit command that
conmon runs afterwards finds the run already recorded). A stop or a kill
with the stop signal or SIGKILL marks the container as stopped by its user,
so no restart policy brings it back, as docker does.
"""

from __future__ import annotations

import signal as signals
import time
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.containers.conmon import process_alive
from servin_core.containers.model import Container, State
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import collect_exit, reconcile_locked
from servin_core.containers.runtime import RuntimeError_, runtime_of
from servin_core.errors import InvalidArgument

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "DEFAULT_STOP_TIMEOUT",
    "kill_locked",
    "parse_signal",
    "pause_locked",
    "stop_locked",
    "unpause_locked",
]

DEFAULT_STOP_TIMEOUT = 10
_KILL_GRACE = 30.0


def parse_signal(value: str | int) -> int:
    """``SIGTERM``, ``TERM``, ``15`` or 15 -> 15."""
    if isinstance(value, int) or value.isdigit():
        number = int(value)
        if number not in {s.value for s in signals.Signals}:
            raise InvalidArgument("signal", str(value), "unknown signal")
        return number
    name = value.upper()
    name = name if name.startswith("SIG") else "SIG" + name
    try:
        return int(signals.Signals[name])
    except KeyError:
        raise InvalidArgument("signal", value, "unknown signal") from None


def _wait_exit(paths: ContainerPaths, container: Container, timeout: float) -> bool:
    """Wait until conmon records the exit (or dies); whether it did."""
    deadline = time.monotonic() + timeout
    while True:
        if paths.exit_file.exists() or not process_alive(container.conmon_pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _signal(core: Core, container: Container, number: int) -> None:
    try:
        runtime_of(core.config, container).run_sync(
            container.id, "kill", container.id, str(number)
        )
    except RuntimeError_ as e:
        # The process may have exited between our look and the signal.
        if "not running" not in e.output and "process already finished" not in (
            e.output
        ):
            raise


def _resume_if_paused(core: Core, container: Container) -> None:
    """A frozen process cannot handle a signal: thaw it."""
    if container.state is not State.PAUSED:
        return
    try:
        runtime_of(core.config, container).run_sync(
            container.id, "resume", container.id
        )
    except RuntimeError_ as e:
        # runc thaws a frozen container itself to deliver SIGKILL (cgroup
        # v1 holds signals to frozen tasks), and the container may be gone.
        if "not paused" not in e.output and "not running" not in e.output:
            raise


def _stop_signal(container: Container, signal: str | None) -> int:
    """``signal`` if given, else the container's stop signal (SIGTERM when
    neither the image nor ``--stop-signal`` set one)."""
    if signal is None:
        return parse_signal(container.config.stop_signal or "SIGTERM")
    try:
        return parse_signal(signal)
    except InvalidArgument:
        raise InvalidArgument(
            "container", container.name, f"cannot stop with {signal!r}: unknown signal"
        ) from None


def stop_locked(
    core: Core, container: Container, timeout: int | None, signal: str | None = None
) -> Container:
    # A bad signal is refused before anything changes or is sent.
    stop_signal = _stop_signal(container, signal)
    container = reconcile_locked(core, container)
    if container.state is State.RESTARTING:
        return core.containers.update(
            container.id, state=State.EXITED, stopped_by_user=True, event="stop"
        )
    # Marked even when the process has already exited: a restart policy's
    # cleanup may be about to start it again, and must not.
    container = core.containers.update(container.id, stopped_by_user=True)
    if not container.state.is_active:
        return container
    paths = ContainerPaths.of(core.config, container.id)
    logger = log.for_object(log.containers, "container", container.id)
    if timeout is None:
        timeout = container.config.stop_timeout
    if timeout is None:
        timeout = DEFAULT_STOP_TIMEOUT

    _signal(core, container, stop_signal)
    _resume_if_paused(core, container)
    if not _wait_exit(paths, container, max(timeout, 0)):
        logger.info("did not stop within %ds: killing it", timeout)
        _signal(core, container, signals.SIGKILL)
        _wait_exit(paths, container, _KILL_GRACE)
    stopped = collect_exit(core, container)
    return core.containers.update(
        stopped.id,
        stopped_by_user=True,
        event="stop",
        event_attributes={"name": stopped.name},
    )


def kill_locked(core: Core, container: Container, signal: str | int) -> Container:
    number = parse_signal(signal)
    container = reconcile_locked(core, container)
    container.state.require(container.state.is_active, container.name, "kill")
    stop_signal = parse_signal(container.config.stop_signal or "SIGTERM")
    if number in (signals.SIGKILL, stop_signal):
        container = core.containers.update(container.id, stopped_by_user=True)
    if container.state is State.RESTARTING:
        return core.containers.update(container.id, state=State.EXITED)
    _signal(core, container, number)
    if number == signals.SIGKILL:
        _resume_if_paused(core, container)
        paths = ContainerPaths.of(core.config, container.id)
        _wait_exit(paths, container, _KILL_GRACE)
        container = collect_exit(core, container)
    return core.containers.update(
        container.id,
        stopped_by_user=container.stopped_by_user,
        event="kill",
        event_attributes={"name": container.name, "signal": str(number)},
    )


def pause_locked(core: Core, container: Container) -> Container:
    container = reconcile_locked(core, container)
    container.state.require(container.state.can_pause(), container.name, "pause")
    runtime_of(core.config, container).run_sync(container.id, "pause", container.id)
    return core.containers.update(
        container.id,
        state=State.PAUSED,
        event="pause",
        event_attributes={"name": container.name},
    )


def unpause_locked(core: Core, container: Container) -> Container:
    container = reconcile_locked(core, container)
    container.state.require(container.state.can_unpause(), container.name, "unpause")
    runtime_of(core.config, container).run_sync(container.id, "resume", container.id)
    return core.containers.update(
        container.id,
        state=State.RUNNING,
        event="unpause",
        event_attributes={"name": container.name},
    )
