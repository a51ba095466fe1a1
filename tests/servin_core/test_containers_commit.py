"""``commit`` on real containers: the new image holds what the container
wrote, not what it deleted, runs, and carries the requested config; a bad
change leaves no image behind."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import eventually, import_busybox, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.commit import commit
from servin_core.containers.logs import read_logs
from servin_core.containers.model import ContainerConfig, State
from servin_core.core import Core
from servin_core.errors import InvalidArgument

IMAGE = "servin-test/busybox"
CHECK = "cat /written; test -e /bin/vi && echo vi-present || echo vi-gone"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


async def run(core: Core, image: str, script: str) -> tuple[str, str]:
    """Run ``script`` in ``image`` to its end: the container and its output."""
    container = await lifecycle.create(
        core, ContainerConfig(image=image, cmd=["sh", "-c", script])
    )
    await lifecycle.start(core, container.id)
    await lifecycle.wait(core, container.id)
    out = b""
    async for line in read_logs(core, core.containers.get(container.id)):
        out += line.data
    return container.id, out.decode()


async def test_commit_of_a_stopped_container_keeps_writes_and_deletions(
    box: Core,
) -> None:
    ident, _ = await run(box, IMAGE, "echo kept > /written; rm /bin/vi")

    image = await commit(
        box, ident, "servin-test/committed:1", changes=["ENV MARK=yes"], message="m"
    )

    _, seen = await run(box, "servin-test/committed:1", f"{CHECK}; echo $MARK")
    assert seen == "kept\nvi-gone\nyes\n"
    _, original = await run(box, IMAGE, "test -e /bin/vi && echo vi-present")
    assert original == "vi-present\n"
    config = json.loads(box.content.read(image.id))
    assert config["history"][-1]["comment"] == "m"
    assert len(image.layers) == len(box.images.resolve(IMAGE).layers) + 1


async def test_commit_of_a_running_container_leaves_it_running(box: Core) -> None:
    container = await lifecycle.create(
        box,
        ContainerConfig(
            image=IMAGE,
            cmd=["sh", "-c", "echo kept > /written; rm /bin/vi; exec sleep 1000"],
        ),
    )
    await lifecycle.start(box, container.id)
    upper = box.config.data_dir / "containers" / container.id / "upper"
    eventually(lambda: (upper / "bin" / "vi").exists(), "the deletion")

    image = await commit(box, container.id)

    assert box.containers.get(container.id).state is State.RUNNING
    _, seen = await run(box, image.id, CHECK)
    assert seen == "kept\nvi-gone\n"


async def test_a_bad_change_fails_before_any_image_is_made(box: Core) -> None:
    ident, _ = await run(box, IMAGE, "echo kept > /written")
    before = [image.id for image in box.images.list()]

    with pytest.raises(InvalidArgument, match=r"ONBUILD|unknown"):
        await commit(box, ident, "servin-test/bad:1", changes=["ONBUILD RUN x"])

    assert [image.id for image in box.images.list()] == before


async def test_a_directory_removed_and_made_again_hides_the_images_contents(
    box: Core,
) -> None:
    script = "rm -rf /usr/bin; mkdir /usr/bin; echo new > /usr/bin/only"
    ident, _ = await run(box, IMAGE, script)

    image = await commit(box, ident)

    _, listed = await run(box, image.id, "ls /usr/bin")
    assert listed == "only\n"
    _, original = await run(box, IMAGE, "ls /usr/bin | grep -c .")
    assert int(original) > 1
