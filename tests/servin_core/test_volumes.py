"""Volumes, binds and tmpfs mounts in real containers: data that outlives
a container, a new volume filled from the image, read-only binds, tmpfs
sizes, volumes in use, ``rm -v``, and bad input that leaves nothing."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import import_busybox, mounts_of, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.logs import read_logs
from servin_core.containers.model import ContainerConfig, Mount
from servin_core.core import Core
from servin_core.errors import Conflict, InvalidArgument
from servin_core.volumes import operations as volumes

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


async def run(core: Core, script: str, *mounts: Mount) -> tuple[str, int, str]:
    """Run ``sh -c script``; its ID, exit status and output (both streams)."""
    container = await lifecycle.create(
        core, ContainerConfig(image=IMAGE, cmd=["sh", "-c", script], mounts=[*mounts])
    )
    await lifecycle.start(core, container.id)
    status = await lifecycle.wait(core, container.id)
    text = b""
    async for line in read_logs(core, core.containers.get(container.id)):
        text += line.data
    return container.id, status, text.decode()


def volume_rows(core: Core) -> list[str]:
    return [row[0] for row in core.db.query("SELECT name FROM volumes")]


def volume_locks(core: Core) -> list[str]:
    """The lock files of volumes: one per volume that exists at most."""
    locks = core.config.run_dir / "locks"
    found = os.listdir(locks) if locks.exists() else []
    return sorted(name for name in found if name.startswith("volume-"))


def volume_dirs(core: Core) -> list[str]:
    root = core.config.data_dir / "volumes"
    return sorted(os.listdir(root)) if root.exists() else []


async def test_data_in_a_named_volume_outlives_its_container(box: Core) -> None:
    data = Mount(type="volume", source="keep", target="/data")
    first, status, _ = await run(box, "echo kept > /data/file", data)
    assert status == 0
    await lifecycle.remove(box, first, volumes=True)

    _, status, text = await run(box, "cat /data/file", data)

    assert (status, text) == (0, "kept\n")
    host = volumes.driver_of(box).data("keep") / "file"
    assert host.read_text() == "kept\n"
    events = [
        (e.action, e.attributes.get("destination"))
        for e in box.events.since()
        if e.type == "volume" and e.actor_id == "keep"
    ]
    assert events == [("create", None), ("mount", "/data"), ("mount", "/data")]


async def test_a_new_volume_is_filled_from_the_image(box: Core) -> None:
    etc = Mount(type="volume", source="etc", target="/etc")

    _, status, text = await run(box, "head -1 /etc/passwd; stat -c %a /etc", etc)

    assert status == 0
    assert text == "root:x:0:0:root:/root:/bin/sh\n755\n"
    data = volumes.driver_of(box).data("etc")
    assert (data / "group").read_text().startswith("root:x:0:")
    assert oct(data.stat().st_mode & 0o7777) == oct(0o755)


async def test_a_volume_with_files_is_not_overwritten(box: Core) -> None:
    await volumes.create(box, "mine")
    (volumes.driver_of(box).data("mine") / "only").write_text("mine\n")

    _, status, text = await run(
        box,
        "cat /etc/only; ls /etc | grep -c passwd",
        Mount(type="volume", source="mine", target="/etc"),
    )

    assert (status, text) == (1, "mine\n0\n")


async def test_nocopy_leaves_a_new_volume_empty(box: Core) -> None:
    mount = Mount(type="volume", source="bare", target="/etc", options=("nocopy",))

    _, status, text = await run(box, "ls -A /etc | grep -c passwd", mount)

    assert (status, text) == (1, "0\n")


async def test_a_read_only_bind_refuses_writes(box: Core, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "seen").write_text("from the host\n")
    bind = Mount(type="bind", source=str(shared), target="/data", read_only=True)

    _, status, text = await run(box, "cat /data/seen; echo x > /data/new", bind)

    assert status != 0
    assert text.startswith("from the host\n")
    assert "Read-only file system" in text
    assert sorted(os.listdir(shared)) == ["seen"]


async def test_a_bind_under_a_volume_is_mounted_on_top(
    box: Core, tmp_path: Path
) -> None:
    (tmp_path / "inner").write_text("bound\n")
    mounts = (
        # Given deepest first: the order must not matter.
        Mount(type="bind", source=str(tmp_path), target="/data/sub"),
        Mount(type="volume", source="outer", target="/data"),
    )

    _, status, text = await run(box, "cat /data/sub/inner", *mounts)

    assert (status, text) == (0, "bound\n")


async def test_a_tmpfs_mount_has_the_size_given(box: Core) -> None:
    tmpfs = Mount(type="tmpfs", target="/scratch", options=("size=1m",))

    _, status, text = await run(box, "grep ' /scratch ' /proc/mounts", tmpfs)

    assert status == 0
    fields = text.split()
    assert fields[2] == "tmpfs"
    assert "size=1024k" in fields[3].split(",")


async def test_a_volume_in_use_cannot_be_removed(box: Core) -> None:
    ident, _, _ = await run(
        box, "true", Mount(type="volume", source="busy", target="/data")
    )
    name = box.containers.get(ident).name

    with pytest.raises(Conflict) as caught:
        await volumes.remove(box, "busy")

    assert "volume busy" in str(caught.value)
    assert name in str(caught.value)
    assert "busy" in volume_rows(box)
    await lifecycle.remove(box, ident)
    assert await volumes.remove(box, "busy")
    assert volume_rows(box) == [] and volume_dirs(box) == []
    assert volume_locks(box) == []


async def test_rm_v_removes_anonymous_volumes_but_not_named_ones(box: Core) -> None:
    ident, status, _ = await run(
        box,
        "touch /anon/a /named/n",
        Mount(type="volume", target="/anon"),
        Mount(type="volume", source="named", target="/named"),
    )
    assert status == 0
    anonymous = [v.name for v in volumes.list_volumes(box) if v.anonymous]
    assert len(anonymous) == 1 and len(anonymous[0]) == 64

    await lifecycle.remove(box, ident, volumes=True)

    assert volume_rows(box) == ["named"]
    assert volume_dirs(box) == ["named"]
    assert volume_locks(box) == ["volume-named"]


async def test_rm_without_v_keeps_anonymous_volumes(box: Core) -> None:
    ident, _, _ = await run(box, "true", Mount(type="volume", target="/anon"))

    await lifecycle.remove(box, ident)

    assert len(volume_rows(box)) == 1
    assert await volumes.prune(box) != []
    assert volume_rows(box) == [] and volume_dirs(box) == []


async def test_a_volume_name_with_a_slash_is_refused_leaving_nothing(
    box: Core,
) -> None:
    with pytest.raises(InvalidArgument, match=r"volume name a/b: .*slash"):
        await volumes.create(box, "a/b")
    with pytest.raises(InvalidArgument, match=r"volume name x/y: .*slash"):
        await lifecycle.create(
            box,
            ContainerConfig(
                image=IMAGE,
                cmd=["true"],
                mounts=[
                    Mount(type="volume", target="/fresh"),
                    Mount(type="volume", source="x/y", target="/data"),
                ],
            ),
        )

    assert box.containers.list() == []
    assert volume_rows(box) == [] and volume_dirs(box) == []


async def test_a_failed_create_leaves_no_volume(box: Core) -> None:
    with pytest.raises(InvalidArgument, match="no command"):
        await lifecycle.create(
            box,
            ContainerConfig(
                image=IMAGE,
                entrypoint=[],
                mounts=[Mount(type="volume", source="never", target="/data")],
            ),
        )

    assert volume_rows(box) == [] and volume_dirs(box) == []


async def test_removed_containers_leave_no_volume_mount(box: Core) -> None:
    ident, _, _ = await run(
        box, "true", Mount(type="volume", source="plain", target="/data")
    )

    await lifecycle.remove(box, ident)

    assert mounts_of(ident) == []
    with open("/proc/mounts") as f:
        assert [line for line in f if "/volumes/plain/" in line] == []


async def test_a_directory_left_by_a_cut_short_removal_is_not_reused(
    box: Core,
) -> None:
    driver = volumes.driver_of(box)
    for name in ("stale", "orphan"):
        (driver.data(name)).mkdir(parents=True)
        (driver.data(name) / "old").write_text("left over\n")

    await volumes.create(box, "stale")
    _, status, text = await run(
        box, "ls -A /data", Mount(type="volume", source="stale", target="/data")
    )

    assert (status, text) == (0, "")
    await volumes.prune(box)
    assert volume_dirs(box) == ["stale"]


async def test_propagation_is_rprivate_unless_given(box: Core, tmp_path: Path) -> None:
    import json

    from servin_core.containers.paths import ContainerPaths

    mounts = (
        Mount(type="bind", source=str(tmp_path), target="/plain"),
        Mount(type="bind", source=str(tmp_path), target="/slave", options=("rslave",)),
        Mount(type="volume", source="vol", target="/vol", options=("rshared",)),
    )
    ident, status, _ = await run(box, "true", *mounts)
    assert status == 0

    spec = json.loads(ContainerPaths.of(box.config, ident).spec.read_text())
    options = {m["destination"]: m["options"] for m in spec["mounts"]}
    assert options["/plain"] == ["rbind", "rprivate"]
    assert options["/slave"] == ["rbind", "rslave"]
    assert options["/vol"] == ["rbind", "rshared"]


async def test_tmpfs_is_noexec_unless_exec_is_given(box: Core) -> None:
    script = "cp /bin/busybox /t/true && /t/true"

    _, refused, _ = await run(box, script, Mount(type="tmpfs", target="/t"))
    _, allowed, _ = await run(
        box, script, Mount(type="tmpfs", target="/t", options=("exec",))
    )

    assert (refused, allowed) == (126, 0)


async def test_a_file_bind_replaces_a_generated_etc_file(
    box: Core, tmp_path: Path
) -> None:
    hosts = tmp_path / "hosts"
    hosts.write_text("10.1.2.3 mine\n")
    bind = Mount(type="bind", source=str(hosts), target="/etc/hosts", read_only=True)

    _, status, text = await run(box, "cat /etc/hosts", bind)

    assert (status, text) == (0, "10.1.2.3 mine\n")


async def test_a_failed_start_leaves_no_mount_and_keeps_the_volume(
    box: Core,
) -> None:
    container = await lifecycle.create(
        box,
        ContainerConfig(
            image=IMAGE,
            cmd=["/no/such/program"],
            mounts=[Mount(type="volume", source="kept", target="/data")],
        ),
    )

    with pytest.raises(InvalidArgument):
        await lifecycle.start(box, container.id)

    assert mounts_of(container.id) == []
    with open("/proc/mounts") as f:
        assert [line for line in f if "/volumes/kept/" in line] == []
    assert volume_rows(box) == ["kept"]


async def test_copy_up_keeps_owners_modes_links_and_capabilities(
    core: Core, busybox_rootfs_tar: Path, tmp_path: Path
) -> None:
    import io
    import tarfile

    layer = tmp_path / "owned.tar"
    with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as tar:
        entries = [
            ("srv", tarfile.DIRTYPE, 0o755, 0, 0, ""),
            ("srv/data", tarfile.DIRTYPE, 0o750, 1000, 1000, ""),
            ("srv/data/file", tarfile.REGTYPE, 0o604, 1001, 1002, ""),
            ("srv/data/link", tarfile.SYMTYPE, 0o777, 1003, 1003, "file"),
            ("srv/data/hard", tarfile.LNKTYPE, 0o604, 1001, 1002, "srv/data/file"),
            ("srv/data/ping", tarfile.REGTYPE, 0o755, 0, 0, ""),
        ]
        for name, kind, mode, uid, gid, linked in entries:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.uid, info.gid = kind, mode, uid, gid
            info.linkname = linked
            content = b"content\n" if kind == tarfile.REGTYPE else b""
            info.size = len(content)
            if name.endswith("ping"):
                # A file capability (cap_net_raw+ep), as ping carries.
                info.pax_headers = {
                    "SCHILY.xattr.security.capability": (
                        "\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00"
                        "\x00\x00\x00\x00\x00\x00\x00\x00"
                    )
                }
            tar.addfile(info, io.BytesIO(content))
    await import_busybox(core, busybox_rootfs_tar, layer)
    try:
        _, status, _ = await run(
            core, "true", Mount(type="volume", source="owned", target="/srv/data")
        )
        assert status == 0

        data = volumes.driver_of(core).data("owned")
        top, file, link = data.stat(), (data / "file").stat(), (data / "link").lstat()
        assert (top.st_uid, top.st_gid, top.st_mode & 0o7777) == (1000, 1000, 0o750)
        assert (file.st_uid, file.st_gid, file.st_mode & 0o7777) == (1001, 1002, 0o604)
        assert os.readlink(data / "link") == "file"
        assert (link.st_uid, link.st_gid) == (1003, 1003)
        assert (data / "hard").stat().st_ino == file.st_ino
        assert (
            os.getxattr(data / "ping", "security.capability")[:4] == b"\x01\x00\x00\x02"
        )
    finally:
        await remove_all(core)


async def test_cp_reaches_the_volumes_and_binds_of_a_stopped_container(
    box: Core, tmp_path: Path
) -> None:
    import io
    import tarfile

    from servin_core.containers.copy import copy_from_container, copy_to_container
    from servin_core.errors import PermissionDenied

    def tar_of(name: str, data: bytes) -> io.BytesIO:
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        buffer.seek(0)
        return buffer

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "host-file").write_text("from the host\n")
    container = await lifecycle.create(
        box,
        ContainerConfig(
            image=IMAGE,
            cmd=["true"],
            mounts=[
                Mount(type="volume", source="cpvol", target="/data"),
                Mount(
                    type="bind", source=str(shared), target="/data/ro", read_only=True
                ),
            ],
        ),
    )

    copy_to_container(box, container.id, "/data", tar_of("copied", b"in the volume\n"))
    with pytest.raises(PermissionDenied, match="Read-only file system"):
        copy_to_container(box, container.id, "/data/ro", tar_of("no", b"x"))
    out = io.BytesIO()
    copy_from_container(box, container.id, "/data/ro/host-file", out)

    data = volumes.driver_of(box).data("cpvol")
    assert (data / "copied").read_text() == "in the volume\n"
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        member = tar.extractfile("host-file")
        assert member is not None and member.read() == b"from the host\n"
    assert sorted(os.listdir(shared)) == ["host-file"]
    assert mounts_of(container.id) == []
    with open("/proc/mounts") as f:
        assert [line for line in f if "/volumes/cpvol/" in line] == []


async def test_cp_before_the_first_start_sees_the_volume_filled(box: Core) -> None:
    import io
    import tarfile

    from servin_core.containers.copy import copy_from_container

    container = await lifecycle.create(
        box,
        ContainerConfig(
            image=IMAGE,
            cmd=["true"],
            mounts=[Mount(type="volume", source="cpetc", target="/etc")],
        ),
    )

    out = io.BytesIO()
    copy_from_container(box, container.id, "/etc/group", out)

    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        member = tar.extractfile("group")
        assert member is not None and member.read().startswith(b"root:x:0:")
    assert (volumes.driver_of(box).data("cpetc") / "passwd").exists()
