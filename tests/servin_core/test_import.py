import gzip
import io
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard
from imagekit import Entry, file, tar_of
from leftover_check import NOTHING, leftovers

from servin_core.core import Core
from servin_core.errors import InvalidArgument
from servin_core.images.content import digest_of
from servin_core.images.importer import import_image
from servin_core.images.platform import host_platform


def applets() -> list[str]:
    """Where busybox puts its applets: ``bin/sh``, ``usr/bin/wget``, ..."""
    listing = subprocess.run(
        ["/bin/busybox", "--list-full"], check=True, capture_output=True, text=True
    )
    return listing.stdout.split()


def config_of(core: Core, image_id: str) -> dict[str, object]:
    config: dict[str, object] = json.loads(core.content.read(image_id))
    return config


async def test_a_busybox_rootfs_becomes_a_tagged_image(
    core: Core, busybox_rootfs_tar: Path
) -> None:
    path = busybox_rootfs_tar
    with path.open("rb") as f:
        image = await import_image(core, f, "busybox:imported")

    assert [i.tags for i in core.images.list()] == [
        ("docker.io/library/busybox:imported",)
    ]
    assert core.images.resolve("busybox:imported").id == image.id
    root = core.snapshots.path(image.layers[0].chain_id)
    assert (root / "bin/busybox").read_bytes() == Path("/bin/busybox").read_bytes()
    assert os.access(root / "bin/busybox", os.X_OK)
    links = [name for name in applets() if name != "bin/busybox"]
    assert len(links) > 100 and {"bin/sh", "bin/ls"} <= set(links)
    for name in links:
        assert os.readlink(root / name) == "/bin/busybox"
    assert stat.S_IMODE(os.stat(root / "tmp").st_mode) == 0o1777
    assert "root:x:0:0" in (root / "etc/passwd").read_text()

    host = host_platform()
    config = config_of(core, image.id)
    assert (config["os"], config["architecture"]) == (host.os, host.architecture)
    assert (image.os, image.architecture) == (host.os, host.architecture)
    assert config["rootfs"] == {
        "type": "layers",
        "diff_ids": [digest_of(path.read_bytes())],
    }
    assert config["history"] == [
        {
            "created": config["created"],
            "created_by": f"import from {path}",
            "comment": f"Imported from {path}",
        }
    ]


async def test_the_imported_rootfs_runs_its_shell(
    core: Core, busybox_rootfs_tar: Path
) -> None:
    # The unpacked layer is a working root: chroot into it and run an applet.
    with busybox_rootfs_tar.open("rb") as f:
        image = await import_image(core, f, "busybox")
    root = core.snapshots.path(image.layers[0].chain_id)
    result = subprocess.run(
        ["chroot", str(root), "/bin/sh", "-c", "echo $((6*7)); id -un"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == ["42", "root"]


@pytest.mark.parametrize(
    "compress",
    [
        lambda data: data,
        lambda data: gzip.compress(data),
        lambda data: zstandard.ZstdCompressor().compress(data),
    ],
    ids=["plain", "gzip", "zstd"],
)
async def test_any_compression_gives_one_diff_id_and_a_gzip_blob(
    core: Core, compress: object
) -> None:
    layer = tar_of([file("hello.txt", b"hello\n")])
    data = compress(layer)  # type: ignore[operator]
    image = await import_image(core, io.BytesIO(data))

    assert image.tags == ()
    assert image.layers[0].diff_id == digest_of(layer)
    blob = core.content.read(image.layers[0].digest)
    assert digest_of(blob) == image.layers[0].digest
    assert gzip.decompress(blob) == layer
    root = core.snapshots.path(image.layers[0].chain_id)
    assert (root / "hello.txt").read_bytes() == b"hello\n"


async def test_changes_and_message_go_into_the_config(core: Core) -> None:
    changes = [
        'CMD ["/bin/sh", "-c", "echo hi"]',
        "ENTRYPOINT /bin/init --fast",
        "ENV PATH=/usr/bin:/bin GREETING=hello",
        "ENV NAME John Doe",
        "ENV GREETING=bye",
        "WORKDIR /srv",
        "WORKDIR app",
        "USER 1000:1000",
        'LABEL org.example.vendor="ACME Inc" version=2',
        "EXPOSE 80 53/udp 8000-8001",
        "VOLUME /data /cache",
        "stopsignal SIGQUIT",
    ]
    image = await import_image(
        core,
        io.BytesIO(tar_of([file("x", b"x")])),
        "app:v1",
        changes=changes,
        message="built by hand",
        platform="linux/arm64",
    )
    config = config_of(core, image.id)
    assert config["config"] == {
        "Cmd": ["/bin/sh", "-c", "echo hi"],
        "Entrypoint": ["/bin/sh", "-c", "/bin/init --fast"],
        "Env": ["PATH=/usr/bin:/bin", "NAME=John Doe", "GREETING=bye"],
        "WorkingDir": "/srv/app",
        "User": "1000:1000",
        "Labels": {"org.example.vendor": "ACME Inc", "version": "2"},
        "ExposedPorts": {"80/tcp": {}, "53/udp": {}, "8000/tcp": {}, "8001/tcp": {}},
        "Volumes": {"/data": {}, "/cache": {}},
        "StopSignal": "SIGQUIT",
    }
    assert (config["os"], config["architecture"]) == ("linux", "arm64")
    assert image.architecture == "arm64"
    history = config["history"]
    assert isinstance(history, list) and history[0]["comment"] == "built by hand"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("ONBUILD RUN make", "ONBUILD triggers cannot be stored"),
        ("RUN apt-get update", "unknown instruction 'RUN'"),
        ("CMD", "CMD needs an argument"),
        ("EXPOSE 70000", "invalid port range"),
        ("EXPOSE 80/icmp", "unknown protocol"),
        ("LABEL novalue", "no value for 'novalue'"),
        ("STOPSIGNAL kill -9", "invalid signal"),
    ],
)
async def test_bad_changes_are_refused_before_anything_is_stored(
    core: Core, change: str, reason: str
) -> None:
    with pytest.raises(InvalidArgument, match=reason) as caught:
        await import_image(core, io.BytesIO(tar_of([file("x")])), changes=[change])
    assert caught.value.kind == "change" and caught.value.ident == change
    assert leftovers(core) == NOTHING


@pytest.mark.parametrize(
    "data",
    [b"", b"this is not a tar archive\n" * 100, gzip.compress(b"\x01" * 4096)],
    ids=["empty", "text", "gzipped-garbage"],
)
async def test_a_source_that_is_not_a_tar_is_named_in_the_error(
    core: Core, tmp_path: Path, data: bytes
) -> None:
    good, bad = tmp_path / "good.tar", tmp_path / "bad.tar"
    good.write_bytes(tar_of([file("a", b"a")]))
    bad.write_bytes(data)
    with (
        good.open("rb") as first,
        bad.open("rb") as second,
        pytest.raises(InvalidArgument, match="not a tar archive") as caught,
    ):
        await import_image(core, [first, second], "broken")
    assert (caught.value.kind, caught.value.ident) == ("import", str(bad))
    assert leftovers(core) == NOTHING


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
async def test_a_truncated_source_is_refused(core: Core, compress: bool) -> None:
    data = tar_of([file("big", os.urandom(100_000)), file("small", b"x")])
    if compress:
        data = gzip.compress(data)
    with pytest.raises(InvalidArgument, match="import -: not a tar archive"):
        await import_image(core, io.BytesIO(data[: len(data) // 2]))
    assert leftovers(core) == NOTHING


async def test_a_digest_reference_is_refused(core: Core) -> None:
    with pytest.raises(InvalidArgument, match="tagged, not named by digest"):
        await import_image(
            core, io.BytesIO(tar_of([file("a")])), "app@sha256:" + "a" * 64
        )
    assert leftovers(core) == NOTHING


LOWER = tar_of(
    [
        Entry("etc", "dir", mode=0o755),
        file("etc/deleted", b"old"),
        file("etc/kept", b"kept"),
        Entry("cache", "dir", mode=0o755),
        file("cache/old-1", b"1"),
        file("cache/old-2", b"2"),
    ]
)
UPPER = tar_of(
    [
        Entry("etc", "dir", mode=0o755),
        file("etc/.wh.deleted"),
        Entry("cache", "dir", mode=0o755),
        file("cache/.wh..wh..opq"),
        file("cache/new", b"upper"),
    ]
)


@pytest.fixture
def mountpoint(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "merged"
    target.mkdir()
    yield target
    if os.path.ismount(target):
        subprocess.run(["umount", str(target)], check=True)


async def test_whiteouts_hide_lower_files_under_a_real_overlay_mount(
    core: Core, mountpoint: Path
) -> None:
    image = await import_image(core, [io.BytesIO(LOWER), io.BytesIO(UPPER)], "layered")
    assert [layer.diff_id for layer in image.layers] == [
        digest_of(LOWER),
        digest_of(UPPER),
    ]
    lower, upper = (core.snapshots.path(layer.chain_id) for layer in image.layers)
    whiteout = os.lstat(upper / "etc/deleted")
    assert stat.S_ISCHR(whiteout.st_mode)
    assert whiteout.st_rdev == os.makedev(0, 0)
    assert os.getxattr(upper / "cache", "trusted.overlay.opaque") == b"y"

    options = f"lowerdir={upper}:{lower}"
    subprocess.run(
        ["mount", "-t", "overlay", "overlay", "-o", options, str(mountpoint)],
        check=True,
    )
    assert sorted(os.listdir(mountpoint / "etc")) == ["kept"]
    assert (mountpoint / "etc/kept").read_bytes() == b"kept"
    assert sorted(os.listdir(mountpoint / "cache")) == ["new"]
    assert (mountpoint / "cache/new").read_bytes() == b"upper"


def test_timestamps_are_written_as_go_writes_them() -> None:
    from datetime import UTC, datetime

    from servin_core.images.importer import go_timestamp

    moment = datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC)
    assert go_timestamp(moment) == "2026-01-02T03:04:05.12Z"
    assert go_timestamp(moment.replace(microsecond=0)) == "2026-01-02T03:04:05Z"
