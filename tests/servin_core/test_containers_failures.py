"""Bad input to create and start: each a clear error naming the container
(or image) and the reason, with nothing left behind."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import NO_LEAKS, import_busybox, leaks, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.model import ContainerConfig, Mount, Resources, State
from servin_core.core import Core
from servin_core.errors import AlreadyExists, InvalidArgument, NotFound, Unavailable
from servin_core.volumes import operations as volumes

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


def nothing_created(core: Core) -> dict[str, object]:
    return {
        "rows": core.db.query("SELECT id FROM containers"),
        "holds": core.db.query("SELECT holder_id FROM image_holds"),
        "directories": os.listdir(core.config.data_dir / "containers")
        if (core.config.data_dir / "containers").exists()
        else [],
    }


NOTHING = {"rows": [], "holds": [], "directories": []}


async def test_an_image_that_does_not_exist(box: Core) -> None:
    with pytest.raises(NotFound, match="image servin-test/nothing: No such image"):
        await lifecycle.create(
            box, ContainerConfig(image="servin-test/nothing", cmd=["true"])
        )
    assert nothing_created(box) == NOTHING


async def test_a_command_not_in_the_image_is_127(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["no-such-command"]), name="missing"
    )

    with pytest.raises(InvalidArgument) as failure:
        await lifecycle.start(box, container.id)

    assert "container missing" in str(failure.value)
    assert '"no-such-command": executable file not found in $PATH' in str(failure.value)
    after = box.containers.get(container.id)
    assert (after.state, after.exit_code) == (State.CREATED, 127)
    assert leaks(box, container.id) == NO_LEAKS


async def test_a_command_that_cannot_be_executed_is_126(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["/etc/passwd"])
    )

    with pytest.raises(InvalidArgument, match="permission denied"):
        await lifecycle.start(box, container.id)

    assert box.containers.get(container.id).exit_code == 126
    assert leaks(box, container.id) == NO_LEAKS


async def test_a_name_already_taken(box: Core) -> None:
    first = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["true"]), name="taken"
    )
    await volumes.create(box, "kept")
    # One volume that exists and one that the failed create would have made.
    mounts = [
        Mount(type="volume", source="kept", target="/kept"),
        Mount(type="volume", source="never", target="/never"),
    ]

    with pytest.raises(
        AlreadyExists,
        match=f"container name taken: already in use by container {first.id[:12]}",
    ):
        await lifecycle.create(
            box, ContainerConfig(image=IMAGE, cmd=["true"], mounts=mounts), name="taken"
        )

    assert [row["id"] for row in box.db.query("SELECT id FROM containers")] == [
        first.id
    ]
    assert os.listdir(box.config.data_dir / "containers") == [first.id]
    assert [v.name for v in volumes.list_volumes(box)] == ["kept"]
    # Lock files only of what exists: the first container and the kept volume.
    assert sorted(os.listdir(box.config.run_dir / "locks")) == [
        f"container-{first.id}",
        "volume-kept",
    ]


async def test_an_invalid_memory_limit(box: Core) -> None:
    with pytest.raises(InvalidArgument, match="memory 1024: the minimum is 6MiB"):
        await lifecycle.create(
            box,
            ContainerConfig(
                image=IMAGE, cmd=["true"], resources=Resources(memory=1024)
            ),
        )
    assert nothing_created(box) == NOTHING


async def test_an_unknown_user(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["true"], user="ghost"), name="ghostly"
    )

    with pytest.raises(
        InvalidArgument,
        match="container ghostly: unable to find user ghost: no matching entries",
    ):
        await lifecycle.start(box, container.id)

    assert leaks(box, container.id) == NO_LEAKS


async def test_no_command(box: Core) -> None:
    with pytest.raises(InvalidArgument, match="no command specified"):
        await lifecycle.create(box, ContainerConfig(image=IMAGE), name="idle")
    assert nothing_created(box) == NOTHING


async def test_directories_that_cannot_be_made(box: Core) -> None:
    # The containers' directory made immutable (ext4's attribute, which
    # binds root too): the row is written, then making the container's
    # directory fails, and the row and its lock file must go again.
    containers = box.config.data_dir / "containers"
    containers.mkdir(exist_ok=True)
    subprocess.run(["chattr", "+i", str(containers)], check=True)
    try:
        with pytest.raises(
            Unavailable,
            match=r"container walled: cannot make its directories: .*not permitted",
        ):
            await lifecycle.create(
                box, ContainerConfig(image=IMAGE, cmd=["true"]), name="walled"
            )
    finally:
        subprocess.run(["chattr", "-i", str(containers)], check=True)

    assert nothing_created(box) == NOTHING
    assert [
        name
        for name in os.listdir(box.config.run_dir / "locks")
        if name.startswith("container-")
    ] == []
