"""save and load: round trips between stores, the two formats in one
tarball, skopeo reading what Servin writes and Servin reading what skopeo
writes, pipes, and corrupted or hostile archives."""

import gzip
import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagekit import file, tar_of
from leftover_check import NOTHING, leftovers

from servin_core.config import Config
from servin_core.core import Core
from servin_core.errors import InvalidArgument
from servin_core.images import mediatypes
from servin_core.images.archive import load, save
from servin_core.images.importer import import_image
from servin_core.images.platform import host_platform
from servin_core.images.progress import ProgressEvent
from servin_core.images.reference import parse_reference

BASE = tar_of([file("etc/os-release", b"ID=servin\n"), file("etc/gone", b"x")])
TOP = tar_of([file("etc/.wh.gone"), file("app/run", b"#!/bin/sh\n", mode=0o755)])


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Core]:
    """A second, empty store to load into."""
    with Core.open(Config().with_root(tmp_path / "fresh")) as other:
        yield other


def saved(core: Core, references: list[str]) -> bytes:
    out = io.BytesIO()
    save(core, references, out)
    return out.getvalue()


def members(archive: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar
            if m.isreg()
        }


def archive_of(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_config(layers: list[bytes]) -> bytes:
    host = host_platform()
    return json.dumps(
        {
            "architecture": host.architecture,
            "os": host.os,
            "config": {"Cmd": ["/app/run"]},
            "rootfs": {
                "type": "layers",
                "diff_ids": ["sha256:" + sha(t) for t in layers],
            },
        }
    ).encode()


def legacy_docker_archive(images: list[tuple[list[bytes], list[str]]]) -> bytes:
    """docker 1.10 to 24's layout: HEX.json, DIR/layer.tar, repositories."""
    files: dict[str, bytes] = {}
    manifest = []
    for layers, tags in images:
        config = image_config(layers)
        files[f"{sha(config)}.json"] = config
        paths = []
        for layer in layers:
            files[f"{sha(layer)}/layer.tar"] = layer
            paths.append(f"{sha(layer)}/layer.tar")
        manifest.append(
            {"Config": f"{sha(config)}.json", "RepoTags": tags, "Layers": paths}
        )
    files["manifest.json"] = json.dumps(manifest).encode()
    files["repositories"] = b"{}"
    return archive_of(files)


async def imported(core: Core, layers: list[bytes], reference: str | None) -> str:
    image = await import_image(core, [io.BytesIO(t) for t in layers], reference)
    return image.id


async def test_save_then_load_keeps_ids_tags_and_content(
    core: Core, fresh: Core, busybox_rootfs_tar: Path
) -> None:
    with busybox_rootfs_tar.open("rb") as f:
        busybox = await import_image(core, f, "busybox")
    app = core.images.get(await imported(core, [BASE, TOP], "app:1"))
    core.images.tag(app, parse_reference("app:2"))
    await imported(core, [BASE], "other:1")  # not saved

    loaded = await load(fresh, io.BytesIO(saved(core, ["busybox", "app"])))

    assert loaded == ["busybox:latest", "app:1", "app:2"]
    assert {i.id for i in fresh.images.list()} == {busybox.id, app.id}
    for original in (busybox, core.images.get(app.id)):
        copy = fresh.images.get(original.id)
        assert copy.tags == original.tags
        assert copy.manifest_digest == original.manifest_digest
        assert copy.layers == original.layers
    root = fresh.snapshots.path(busybox.layers[0].chain_id)
    assert (root / "bin/busybox").read_bytes() == Path("/bin/busybox").read_bytes()
    assert os.readlink(root / "bin/sh") == "/bin/busybox"


async def test_the_archive_is_a_docker_archive_and_an_oci_layout(core: Core) -> None:
    image = core.images.get(await imported(core, [BASE, TOP], "localhost:5000/app:v1"))
    files = members(saved(core, ["localhost:5000/app:v1"]))

    for name, data in files.items():
        if name.startswith("blobs/sha256/"):
            assert sha(data) == name.removeprefix("blobs/sha256/")
    hexes = [layer.digest.removeprefix("sha256:") for layer in image.layers]
    assert json.loads(files["manifest.json"]) == [
        {
            "Config": "blobs/sha256/" + image.id.removeprefix("sha256:"),
            "RepoTags": ["localhost:5000/app:v1"],
            "Layers": [f"blobs/sha256/{h}" for h in hexes],
        }
    ]
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    assert index["mediaType"] == mediatypes.OCI_INDEX
    assert index["manifests"] == [
        {
            "mediaType": mediatypes.OCI_MANIFEST,
            "digest": image.manifest_digest,
            "size": core.content.size(image.manifest_digest),
            "annotations": {
                "io.containerd.image.name": "localhost:5000/app:v1",
                "org.opencontainers.image.ref.name": "v1",
            },
        }
    ]


def skopeo(*args: str) -> str:
    result = subprocess.run(
        ["skopeo", "--insecure-policy", *args], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


async def test_skopeo_reads_the_archive_both_ways(core: Core, tmp_path: Path) -> None:
    image = core.images.get(await imported(core, [BASE, TOP], "app:v1"))
    archive = tmp_path / "app.tar"
    archive.write_bytes(saved(core, ["app:v1"]))

    raw = skopeo("inspect", "--raw", f"oci-archive:{archive}")
    assert raw.encode() == core.content.read(image.manifest_digest)

    layout = tmp_path / "layout"
    skopeo("copy", f"docker-archive:{archive}", f"oci:{layout}:copied")
    index = json.loads((layout / "index.json").read_text())
    manifest_hex = index["manifests"][0]["digest"].removeprefix("sha256:")
    manifest = json.loads((layout / "blobs/sha256" / manifest_hex).read_bytes())
    assert manifest["config"]["digest"] == image.id
    assert len(manifest["layers"]) == 2


async def test_archives_written_by_skopeo_load(
    core: Core, fresh: Core, tmp_path: Path
) -> None:
    image_id = await imported(core, [BASE, TOP], "app:v1")
    archive = tmp_path / "app.tar"
    archive.write_bytes(saved(core, ["app:v1"]))
    docker_archive, oci_archive = tmp_path / "docker.tar", tmp_path / "oci.tar"
    skopeo("copy", f"oci-archive:{archive}", f"docker-archive:{docker_archive}:app:v2")
    skopeo("copy", f"oci-archive:{archive}", f"oci-archive:{oci_archive}:app:v3")

    with docker_archive.open("rb") as f:
        assert await load(fresh, f) == ["app:v2"]
    with oci_archive.open("rb") as f:
        assert await load(fresh, f) == ["app:v3"]
    copy = fresh.images.get(image_id)
    assert copy.tags == ("docker.io/library/app:v2", "docker.io/library/app:v3")
    top = fresh.snapshots.path(copy.layers[1].chain_id)
    assert (top / "app/run").read_bytes() == b"#!/bin/sh\n"


async def test_an_image_saved_by_id_loads_without_tags(core: Core, fresh: Core) -> None:
    image_id = await imported(core, [BASE], "named")
    archive = saved(core, [image_id.removeprefix("sha256:")[:12]])

    files = members(archive)
    assert json.loads(files["manifest.json"])[0]["RepoTags"] is None
    assert "annotations" not in json.loads(files["index.json"])["manifests"][0]
    assert await load(fresh, io.BytesIO(archive)) == [image_id]
    assert fresh.images.get(image_id).tags == ()


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
async def test_load_from_a_pipe(core: Core, fresh: Core, compress: bool) -> None:
    image_id = await imported(core, [BASE, TOP], "piped")
    archive = saved(core, ["piped"])
    if compress:
        archive = gzip.compress(archive)
    before = sorted(os.listdir(fresh.config.data_dir))

    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as w:
            w.write(archive)

    writer = threading.Thread(target=feed)
    writer.start()
    with os.fdopen(read_end, "rb") as source:
        assert not source.seekable()
        assert await load(fresh, source) == ["piped:latest"]
    writer.join()

    assert fresh.images.resolve("piped").id == image_id
    assert sorted(os.listdir(fresh.config.data_dir)) == before


async def test_a_legacy_docker_archive_loads(fresh: Core) -> None:
    archive = legacy_docker_archive([([BASE, TOP], ["legacy:1"])])
    events: list[ProgressEvent] = []
    assert await load(fresh, io.BytesIO(archive), progress=events.append) == [
        "legacy:1"
    ]
    image = fresh.images.resolve("legacy:1")
    for layer in image.layers:
        assert {e.action for e in events if e.layer == layer.digest} >= {
            "extracting",
            "complete",
        }
    copied = [e for e in events if e.action == "verifying"]
    assert {(e.layer, e.current) for e in copied} == {
        (f"{sha(BASE)}/layer.tar", len(BASE)),
        (f"{sha(TOP)}/layer.tar", len(TOP)),
    }
    assert [(e.action, e.actor_id) for e in fresh.events.since() if e.type == "image"][
        -1
    ] == ("load", image.id)
    assert image.id == "sha256:" + sha(image_config([BASE, TOP]))
    assert [layer.media_type for layer in image.layers] == [mediatypes.OCI_LAYER] * 2
    assert [layer.digest for layer in image.layers] == [
        "sha256:" + sha(BASE),
        "sha256:" + sha(TOP),
    ]
    merged_top = fresh.snapshots.path(image.layers[1].chain_id)
    assert (merged_top / "app/run").is_file()


async def test_a_nested_index_loads_the_host_platform(fresh: Core) -> None:
    host = host_platform()
    blobs: dict[str, bytes] = {}

    def put(data: bytes) -> dict[str, object]:
        blobs[f"blobs/sha256/{sha(data)}"] = data
        return {"digest": "sha256:" + sha(data), "size": len(data)}

    entries = []
    for arch, layer in [("s390x", BASE), (host.architecture, TOP)]:
        config = json.loads(image_config([layer]))
        config["architecture"] = arch
        manifest = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": {
                "mediaType": mediatypes.OCI_CONFIG,
                **put(json.dumps(config).encode()),
            },
            "layers": [{"mediaType": mediatypes.OCI_LAYER, **put(layer)}],
        }
        entries.append(
            {
                "mediaType": mediatypes.OCI_MANIFEST,
                **put(json.dumps(manifest).encode()),
                "platform": {"os": "linux", "architecture": arch},
            }
        )
    nested = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_INDEX,
        "manifests": entries,
    }
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": mediatypes.OCI_INDEX,
                **put(json.dumps(nested).encode()),
                "annotations": {"org.opencontainers.image.ref.name": "multi:1"},
            }
        ],
    }
    archive = archive_of(
        {
            "oci-layout": b'{"imageLayoutVersion":"1.0.0"}',
            "index.json": json.dumps(index).encode(),
            **blobs,
        }
    )

    assert await load(fresh, io.BytesIO(archive)) == ["multi:1"]
    image = fresh.images.resolve("multi:1")
    assert image.architecture == host.architecture
    assert (fresh.snapshots.path(image.layers[0].chain_id) / "app/run").is_file()


async def test_a_corrupted_blob_fails_and_leaves_nothing(
    core: Core, fresh: Core
) -> None:
    image = core.images.get(await imported(core, [BASE, TOP], "app"))
    files = members(saved(core, ["app"]))
    victim = "blobs/sha256/" + image.layers[1].digest.removeprefix("sha256:")
    data = bytearray(files[victim])
    data[len(data) // 2] ^= 0xFF
    files[victim] = bytes(data)

    with pytest.raises(InvalidArgument, match=f"'{victim}' is corrupt") as caught:
        await load(fresh, io.BytesIO(archive_of(files)))
    assert caught.value.kind == "archive"
    assert leftovers(fresh) == NOTHING


async def test_a_layer_that_differs_from_its_diff_id_leaves_nothing(
    fresh: Core,
) -> None:
    archive = members(legacy_docker_archive([([BASE, TOP], ["app:1"])]))
    archive[f"{sha(TOP)}/layer.tar"] = tar_of([file("app/run", b"tampered")])
    with pytest.raises(InvalidArgument, match="differs from the diff ID"):
        await load(fresh, io.BytesIO(archive_of(archive)))
    assert leftovers(fresh) == NOTHING


@pytest.mark.parametrize(
    ("config_path", "links", "reason"),
    [
        ("../../etc/passwd", {}, "leaves the archive"),
        ("/etc/passwd", {}, "absolute path"),
        ("cfg.json", {"cfg.json": "../../../etc/passwd"}, "leaves the archive"),
        ("cfg.json", {"cfg.json": "/etc/passwd"}, "absolute path"),
    ],
    ids=["dotdot", "absolute", "symlink-dotdot", "symlink-absolute"],
)
async def test_paths_out_of_the_archive_are_refused(
    fresh: Core, config_path: str, links: dict[str, str], reason: str
) -> None:
    manifest = [{"Config": config_path, "RepoTags": ["evil:1"], "Layers": []}]
    archive = archive_of({"manifest.json": json.dumps(manifest).encode()}, links)
    with pytest.raises(InvalidArgument, match=reason):
        await load(fresh, io.BytesIO(archive))
    assert leftovers(fresh) == NOTHING


async def test_a_hostile_layer_in_the_last_image_leaves_no_image(fresh: Core) -> None:
    hostile = tar_of([file("../evil", b"x")])
    archive = legacy_docker_archive(
        [([BASE], ["good:1"]), ([BASE, hostile], ["bad:1"])]
    )
    with pytest.raises(
        InvalidArgument, match=re.escape("entry '../evil': path escapes")
    ) as caught:
        await load(fresh, io.BytesIO(archive))
    assert "manifest.json entry 2" in str(caught.value)
    assert leftovers(fresh) == NOTHING


async def test_not_an_archive_is_a_clear_error(fresh: Core) -> None:
    with pytest.raises(InvalidArgument, match="archive -: not a tar archive"):
        await load(fresh, io.BytesIO(b"hello" * 1000))
    with pytest.raises(
        InvalidArgument, match=r"neither manifest\.json nor index\.json"
    ):
        await load(fresh, io.BytesIO(archive_of({"repositories": b"{}"})))
    with pytest.raises(InvalidArgument, match="cannot decompress"):
        await load(fresh, io.BytesIO(gzip.compress(os.urandom(10000))[:100]))
    assert leftovers(fresh) == NOTHING


async def test_save_streams_to_a_pipe(core: Core) -> None:
    await imported(core, [BASE, TOP], "app")
    expected = saved(core, ["app"])
    read_end, write_end = os.pipe()
    received = bytearray()

    def drain() -> None:
        with os.fdopen(read_end, "rb") as r:
            while chunk := r.read(65536):
                received.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    with os.fdopen(write_end, "wb") as pipe:
        assert not pipe.seekable()
        save(core, ["app"], pipe)
    reader.join()
    assert bytes(received) == expected


async def test_loading_twice_changes_nothing(core: Core, fresh: Core) -> None:
    image_id = await imported(core, [BASE, TOP], "twice")
    archive = saved(core, ["twice"])
    assert await load(fresh, io.BytesIO(archive)) == ["twice:latest"]
    before = leftovers(fresh)
    assert await load(fresh, io.BytesIO(archive)) == ["twice:latest"]
    assert leftovers(fresh) == before
    assert [i.id for i in fresh.images.list()] == [image_id]


async def test_a_known_layer_is_still_checked_against_its_blob(fresh: Core) -> None:
    # The snapshot of BASE exists, so nothing unpacks the archive's layer:
    # its blob must still be compared with the diff ID it claims to be.
    await imported(fresh, [BASE], "base")
    before = leftovers(fresh)
    archive = members(legacy_docker_archive([([BASE], ["forged:1"])]))
    archive[f"{sha(BASE)}/layer.tar"] = tar_of([file("etc/os-release", b"forged")])
    with pytest.raises(InvalidArgument, match="differs from the diff ID"):
        await load(fresh, io.BytesIO(archive_of(archive)))
    assert leftovers(fresh) == before
