import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from imagekit import file, oci_image, store_image, tar_of

from servin_core.config import Config
from servin_core.core import Core
from servin_core.errors import Conflict, InvalidArgument, NotFound
from servin_core.images import mediatypes
from servin_core.images.content import digest_of
from servin_core.images.create import create_image
from servin_core.images.inspect import history, inspect
from servin_core.images.prune import prune
from servin_core.images.reference import parse_reference

BASE = tar_of([file("etc/os-release", b"ID=test\n")])
TOP = tar_of([file("app/run", b"#!/bin/sh\necho hi\n", mode=0o755)])


def leftovers(core: Core) -> dict[str, object]:
    """Everything a failed operation could have left behind."""
    return {
        "blobs": sorted(core.content.digests()),
        "snapshots": core.snapshots.chain_ids(),
        "images": core.db.query("SELECT id FROM images"),
        "snapshot rows": core.db.query("SELECT chain_id FROM snapshots"),
        "ingest": os.listdir(core.content.ingest_dir),
        "temporary": [p for p in os.listdir(core.snapshots.root) if p[0] == "."],
    }


EMPTY = {
    "blobs": [],
    "snapshots": [],
    "images": [],
    "snapshot rows": [],
    "ingest": [],
    "temporary": [],
}


async def test_an_image_resolves_by_name_id_and_prefix(core: Core) -> None:
    image = await store_image(core, [BASE, TOP], tags=["app:1"])
    assert image.tags == ("docker.io/library/app:1",)
    for text in ["app:1", "docker.io/library/app:1", image.id, image.short_id]:
        assert core.images.resolve(text).id == image.id
    with pytest.raises(NotFound, match="image app:2: No such image"):
        core.images.resolve("app:2")


async def test_layers_shared_by_two_images_are_unpacked_once(core: Core) -> None:
    first = await store_image(core, [BASE], tags=["base"])
    second = await store_image(core, [BASE, TOP], tags=["app"])
    assert second.layers[0].chain_id == first.layers[0].chain_id
    assert len(core.snapshots.chain_ids()) == 2
    assert (core.snapshots.path(second.layers[1].chain_id) / "app/run").is_file()


async def test_removing_one_of_several_tags_only_untags(core: Core) -> None:
    image = await store_image(core, [BASE], tags=["one"])
    core.images.tag(image, parse_reference("two"))
    assert core.images.remove("one") == [("Untagged", "docker.io/library/one:latest")]
    assert core.images.resolve("two").id == image.id
    with pytest.raises(Conflict, match="referenced in multiple repositories"):
        core.images.tag(image, parse_reference("three"))
        core.images.remove(image.short_id)
    report = core.images.remove(image.short_id, force=True)
    assert report[-1] == ("Deleted", image.id)


async def test_an_image_in_use_is_removed_only_with_force(core: Core) -> None:
    image = await store_image(core, [BASE], tags=["busy"])
    with core.db.write() as conn:
        conn.execute(
            "INSERT INTO image_holds VALUES (?, 'container', ?)", (image.id, "c" * 64)
        )
    with pytest.raises(Conflict, match="in use by container cccccccccccc"):
        core.images.remove("busy")
    assert core.images.remove("busy", force=True)[-1] == ("Deleted", image.id)


async def test_inspect_and_history_show_config_layers_and_size(core: Core) -> None:
    image = await store_image(
        core, [BASE, TOP], tags=["app"], config={"Cmd": ["/app/run"]}
    )
    data = inspect(core, image)
    assert data["Id"] == image.id
    assert data["RepoTags"] == ["app:latest"]
    assert data["Config"]["Cmd"] == ["/app/run"]
    assert data["RootFS"]["Layers"] == [layer.diff_id for layer in image.layers]
    assert data["Size"] == len(b"ID=test\n") + len(b"#!/bin/sh\necho hi\n")
    rows = history(core, image)
    assert [row["CreatedBy"] for row in rows] == ["layer 1", "layer 0"]
    assert rows[0]["Id"] == image.id and rows[1]["Id"] == "<missing>"


async def test_prune_removes_dangling_images_and_their_content(core: Core) -> None:
    kept = await store_image(core, [BASE], tags=["kept"])
    await store_image(core, [BASE, TOP])  # untagged: dangling
    report = prune(core)
    assert [kind for kind, _ in report.deleted] == ["Deleted"]
    assert report.reclaimed > 0
    assert [image.id for image in core.images.list()] == [kept.id]
    assert core.snapshots.chain_ids() == [kept.layers[0].chain_id]
    prune(core, all=True)
    assert leftovers(core) == EMPTY


async def test_a_layer_that_does_not_match_its_diff_id_leaves_nothing(
    core: Core,
) -> None:
    manifest, blobs = oci_image(core, [BASE])
    config = json.loads(blobs[0])
    config["rootfs"]["diff_ids"] = [digest_of(b"another layer")]
    blobs[0] = json.dumps(config).encode()
    doc = json.loads(manifest)
    doc["config"]["digest"], doc["config"]["size"] = digest_of(blobs[0]), len(blobs[0])
    manifest = json.dumps(doc).encode()
    with (
        pytest.raises(InvalidArgument, match="differs from the diff ID"),
        core.leases.acquire() as lease,
    ):
        for blob in blobs:
            lease.add("blob", digest_of(blob))
            core.content.put(blob, digest_of(blob))
        await create_image(core, manifest, mediatypes.OCI_MANIFEST, lease=lease)
    assert leftovers(core) == EMPTY


async def test_a_manifest_of_an_unknown_media_type_is_refused(core: Core) -> None:
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "text/plain"}).encode()
    with (
        pytest.raises(InvalidArgument, match="unsupported media type 'text/plain'"),
        core.leases.acquire() as lease,
    ):
        await create_image(core, manifest, "text/plain", lease=lease)
    assert leftovers(core) == EMPTY


_KILLED_MID_WAY = """
import os, sys
from pathlib import Path
from servin_core.config import Config
from servin_core.core import Core

core = Core.open(Config().with_root(Path(sys.argv[1])))
held = core.leases.acquire()
lease = held.__enter__()
lease.add("blob", "sha256:" + "0" * 64)
digest = core.content.put(b"half of a pull")
lease.add("blob", digest)
writer = core.content.writer()
writer.write(b"partial")
os.kill(os.getpid(), 9)
"""


def test_the_next_process_collects_what_a_killed_one_left(tmp_path: Path) -> None:
    root = tmp_path / "root"
    killed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_KILLED_MID_WAY), str(root)],
        check=False,
    )
    assert killed.returncode == -9
    with Core.open(Config().with_root(root)) as core:
        assert leftovers(core) == EMPTY
        assert core.db.query("SELECT * FROM leases") == []


async def test_listeners_hear_committed_events_only(core: Core) -> None:
    heard: list[tuple[str, str]] = []
    unsubscribe = core.events.subscribe(lambda e: heard.append((e.action, e.type)))
    image = await store_image(core, [BASE], tags=["heard"])
    with pytest.raises(RuntimeError), core.db.write() as conn:
        core.events.record(conn, "image", "never", image.id)
        raise RuntimeError("rolled back")
    unsubscribe()
    core.images.remove("heard")
    assert heard == [("tag", "image"), ("pull", "image")]
    assert [e.action for e in core.events.since()] == ["tag", "pull", "untag", "delete"]


async def test_a_known_layer_paired_with_other_bytes_is_refused(core: Core) -> None:
    await store_image(core, [BASE], tags=["genuine"])
    before = leftovers(core)
    # A manifest whose config claims BASE's diff ID for a different blob: the
    # snapshot exists already, so only a check of the blob itself catches it.
    manifest, blobs = oci_image(core, [TOP])
    config = json.loads(blobs[0])
    config["rootfs"]["diff_ids"] = [digest_of(BASE)]
    blobs[0] = json.dumps(config).encode()
    doc = json.loads(manifest)
    doc["config"]["digest"], doc["config"]["size"] = digest_of(blobs[0]), len(blobs[0])
    with (
        pytest.raises(InvalidArgument, match="differs from the diff ID"),
        core.leases.acquire() as lease,
    ):
        for blob in blobs:
            lease.add("blob", digest_of(blob))
            core.content.put(blob, digest_of(blob))
        await create_image(
            core, json.dumps(doc).encode(), mediatypes.OCI_MANIFEST, lease=lease
        )
    assert leftovers(core) == before
