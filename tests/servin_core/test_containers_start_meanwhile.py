"""``start_locked``'s ``meanwhile``: the caller's own work while the runtime
creates the container (``run`` imports what it needs to follow the output
then). It runs once, before the start is recorded; a start that fails
still runs it and leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import NO_LEAKS, import_busybox, leaks, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.locked import locked
from servin_core.containers.model import ContainerConfig, State
from servin_core.containers.start import start_locked
from servin_core.core import Core
from servin_core.errors import InvalidArgument

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


async def test_meanwhile_runs_once_before_the_start_is_recorded(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "30"], network="none")
    )
    seen: list[State] = []

    def meanwhile() -> None:
        seen.append(box.containers.get(container.id).state)

    started = locked(
        box, container.id, lambda c: start_locked(box, c, meanwhile=meanwhile)
    )

    assert seen == [State.CREATED]
    assert started.state is State.RUNNING


async def test_meanwhile_runs_before_a_failed_create_is_undone(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["/no/such/program"], network="none")
    )
    calls = []

    with pytest.raises(InvalidArgument, match=r"no such file|not found"):
        locked(
            box,
            container.id,
            lambda c: start_locked(box, c, meanwhile=lambda: calls.append(1)),
        )

    assert calls == [1]
    assert leaks(box, container.id) == NO_LEAKS
    assert box.containers.get(container.id).exit_code == 127
