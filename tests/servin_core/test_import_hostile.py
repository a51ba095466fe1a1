"""Importing layers built to escape their root: each is refused with the
layer and the entry named, and leaves nothing behind, inside or outside."""

import io
import os
import stat
import uuid
from pathlib import Path

import pytest
from imagekit import Entry, file, tar_of
from leftover_check import NOTHING, leftovers

from servin_core.core import Core
from servin_core.errors import InvalidArgument
from servin_core.images.importer import import_image


def files_under(path: Path) -> set[str]:
    return {
        os.path.relpath(os.path.join(top, name), path)
        for top, dirs, names in os.walk(path)
        for name in dirs + names
    }


@pytest.mark.parametrize(
    ("entries", "entry", "reason"),
    [
        ([file("../evil", b"x")], "../evil", "escapes the layer root"),
        ([file("a/../../evil", b"x")], "a/../../evil", "escapes the layer root"),
        (
            [Entry("link", "symlink", target="{outside}"), file("link/evil", b"x")],
            "link/evil",
            "passes through 'link'",
        ),
        (
            [Entry("up", "symlink", target="../.."), file("up/evil", b"x")],
            "up/evil",
            "passes through 'up'",
        ),
        (
            [Entry("pw", "hardlink", target="/etc/passwd")],
            "pw",
            "hardlink target '/etc/passwd' is not in the layer",
        ),
        (
            [Entry("pw", "hardlink", target="../outside/precious")],
            "pw",
            "escapes the layer root",
        ),
    ],
    ids=[
        "dotdot",
        "dotdot-inside",
        "symlink-absolute",
        "symlink-relative",
        "hardlink-absolute",
        "hardlink-dotdot",
    ],
)
async def test_an_escaping_layer_is_refused_and_leaves_nothing(
    core: Core, tmp_path: Path, entries: list[Entry], entry: str, reason: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_bytes(b"precious")
    for item in entries:
        item.target = item.target.replace("{outside}", str(outside))
    layer = tmp_path / "hostile.tar"
    layer.write_bytes(tar_of([file("ok", b"fine"), *entries]))
    before = files_under(tmp_path)

    with layer.open("rb") as f, pytest.raises(InvalidArgument) as caught:
        await import_image(core, f, "hostile")

    message = str(caught.value)
    assert message.startswith(f"import {layer}: layer sha256:")
    assert f"entry {entry!r}: " in message and reason in message
    assert leftovers(core) == NOTHING
    # Nothing written anywhere else under the test's directory, the data
    # directory included, nor next to this process's working directory.
    assert files_under(tmp_path) - before == set()
    assert (outside / "precious").read_bytes() == b"precious"
    assert not Path("evil").exists() and not Path("/evil").exists()


async def test_a_hostile_upper_layer_takes_the_lower_one_with_it(core: Core) -> None:
    lower = tar_of([file("etc/os-release", b"ID=test\n")])
    upper = tar_of([file("../evil", b"x")])
    with pytest.raises(InvalidArgument, match="import source 2: layer sha256:"):
        await import_image(core, [io.BytesIO(lower), io.BytesIO(upper)], "two")
    assert leftovers(core) == NOTHING


async def test_a_hardlink_to_a_file_of_the_layer_is_kept(core: Core) -> None:
    # The absolute target names the layer's own /etc/passwd, as docker reads it.
    layer = tar_of(
        [
            file("etc/passwd", b"root:x:0:0::/:/bin/sh\n"),
            Entry("copy", "hardlink", target="/etc/passwd"),
        ]
    )
    image = await import_image(core, [io.BytesIO(layer)])
    root = core.snapshots.path(image.layers[0].chain_id)
    assert os.stat(root / "copy").st_ino == os.stat(root / "etc/passwd").st_ino


async def test_absolute_names_land_inside_the_layer(core: Core) -> None:
    top = f"servin-test-{uuid.uuid4().hex}"
    image = await import_image(core, io.BytesIO(tar_of([file(f"/{top}/f", b"in")])))
    root = core.snapshots.path(image.layers[0].chain_id)
    assert (root / top / "f").read_bytes() == b"in"
    assert not Path(f"/{top}").exists()


async def test_device_nodes_are_created_inside_the_layer(core: Core) -> None:
    if os.geteuid() != 0:
        pytest.fail("this suite runs as root, as CI does")
    image = await import_image(
        core,
        io.BytesIO(
            tar_of([Entry("dev", "dir", mode=0o755), Entry("dev/null", "chardev")])
        ),
    )
    node = os.lstat(core.snapshots.path(image.layers[0].chain_id) / "dev/null")
    assert stat.S_ISCHR(node.st_mode) and node.st_rdev == os.makedev(1, 3)
