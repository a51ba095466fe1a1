"""``stats`` and ``cp`` on real containers: the counters a user reads, files
copied both ways (running and stopped), and symlinks planted by the
container that must not lead to the host's files."""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import eventually, import_busybox, mounts_of, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.copy import copy_from_container, copy_to_container
from servin_core.containers.model import ContainerConfig, Resources
from servin_core.containers.stats import CgroupV2, cgroup_reader, sample, stats
from servin_core.core import Core
from servin_core.errors import NotFound, PermissionDenied

IMAGE = "servin-test/busybox"
READY = "/tmp/ready"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


async def started(core: Core, script: str, **config: object) -> str:
    """A running container that ran ``script``, then sleeps."""
    container = await lifecycle.create(
        core,
        ContainerConfig(
            image=IMAGE,
            cmd=["sh", "-c", f"{script}; touch {READY}; exec sleep 1000"],
            **config,  # type: ignore[arg-type]
        ),
    )
    await lifecycle.start(core, container.id)
    eventually(lambda: _exists(core, container.id, READY), "the script to finish")
    return container.id


def _exists(core: Core, ident: str, path: str) -> bool:
    try:
        copy_from_container(core, ident, path, io.BytesIO())
    except NotFound:
        return False
    return True


def read_out(core: Core, ident: str, path: str) -> dict[str, bytes | None]:
    """The tar ``cp`` makes of ``path``: each entry's name and content."""
    buffer = io.BytesIO()
    copy_from_container(core, ident, path, buffer)
    buffer.seek(0)
    found: dict[str, bytes | None] = {}
    with tarfile.open(fileobj=buffer) as tar:
        for member in tar:
            data = tar.extractfile(member) if member.isreg() else None
            found[member.name] = data.read() if data else None
    return found


def tar_of(files: dict[str, bytes]) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


async def test_stats_show_memory_its_limit_and_pids(box: Core) -> None:
    limit = 64 * 1024 * 1024
    ident = await started(box, "true", resources=Resources(memory=limit))

    [row] = await stats(box, [box.containers.get(ident)], interval=0.2)

    assert row.memory_usage > 0
    assert row.memory_limit == limit
    assert 0 < row.memory_percent < 100
    assert row.pids >= 1
    assert row.cpu_percent >= 0


PING_GATEWAY = "ping -c 2 -i 0.2 $(ip route | awk '/^default/ {print $3}') > /dev/null"


async def test_stats_count_cpu_time_and_the_networks_traffic(box: Core) -> None:
    ident = await started(box, f"{PING_GATEWAY}; {{ while :; do :; done & }}")
    container = box.containers.get(ident)

    [row] = await stats(box, [container], interval=0.5)
    counted = sample(container).networks

    assert row.cpu_percent > 0
    assert list(counted) == ["eth0"]  # loopback is not the container's network
    assert counted["eth0"].rx_packets >= 2 and counted["eth0"].tx_packets >= 2
    assert row.net_received >= counted["eth0"].rx_bytes > 0
    assert row.net_sent >= counted["eth0"].tx_bytes > 0
    assert row.pids == 2


async def test_traffic_a_container_sends_itself_is_not_counted(box: Core) -> None:
    ident = await started(box, "ping -c 3 -i 0.2 127.0.0.1 > /dev/null", network="none")

    [row] = await stats(box, [box.containers.get(ident)], interval=0.2)

    assert (row.net_received, row.net_sent) == (0, 0)


def test_the_cgroup_v2_reader_reads_the_unified_files(tmp_path: Path) -> None:
    """This host has v1 controllers; the v2 files are laid out as the kernel
    writes them, to check the reader of the other hierarchy."""
    (tmp_path / "cgroup.controllers").write_text("cpu io memory pids\n")
    group = tmp_path / "servin" / "abc"
    group.mkdir(parents=True)
    (group / "cpu.stat").write_text("usage_usec 2500\nuser_usec 2000\n")
    (group / "memory.current").write_text("1048576\n")
    (group / "memory.stat").write_text("anon 1000\ninactive_file 4096\n")
    (group / "memory.max").write_text("max\n")
    (group / "pids.current").write_text("3\n")
    (group / "io.stat").write_text(
        "8:0 rbytes=100 wbytes=20 rios=1 wios=1\n8:16 rbytes=5 wbytes=0\n"
    )

    reader = cgroup_reader("abc", tmp_path)

    assert isinstance(reader, CgroupV2)
    assert reader.cpu_usage_ns() == 2_500_000
    assert reader.memory_usage() == 1048576 - 4096
    assert reader.memory_limit() is None
    assert reader.pids() == 3
    assert reader.block_io() == (105, 20)


async def test_stats_of_an_unlimited_container_show_the_hosts_memory(
    box: Core,
) -> None:
    ident = await started(box, "true")
    host = next(
        int(line.split()[1]) * 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )

    [row] = await stats(box, [box.containers.get(ident)], interval=0.1)

    assert row.memory_limit == host


async def test_cp_a_file_and_a_directory_out_and_in(box: Core) -> None:
    ident = await started(box, "mkdir -p /data/sub; echo one > /data/sub/f")

    assert read_out(box, ident, "/data") == {
        "data": None,
        "data/sub": None,
        "data/sub/f": b"one\n",
    }
    copy_to_container(box, ident, "/tmp", tar_of({"in/g": b"two", "h": b"three"}))

    assert read_out(box, ident, "/tmp/in/g") == {"g": b"two"}
    assert read_out(box, ident, "/tmp/h") == {"h": b"three"}


async def test_cp_through_symlinks_to_the_host_stays_in_the_container(
    box: Core, tmp_path: Path
) -> None:
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    (host_dir / "secret").write_text("host")
    ident = await started(
        box,
        f"ln -s {host_dir} /abs; ln -s ../../../../../../../../{host_dir} /rel;"
        f"mkdir -p /inside{host_dir}; echo container > /inside{host_dir}/secret;"
        f"ln -s /inside{host_dir} /mine",
    )

    for link in ("/abs", "/rel"):
        with pytest.raises(NotFound):
            read_out(box, ident, f"{link}/secret")
        with pytest.raises(NotFound):
            copy_to_container(box, ident, link, tar_of({"planted": b"x"}))
    assert read_out(box, ident, "/mine/secret") == {"secret": b"container\n"}

    assert sorted(p.name for p in host_dir.iterdir()) == ["secret"]
    assert (host_dir / "secret").read_text() == "host"


async def test_cp_into_and_out_of_a_stopped_container(box: Core) -> None:
    ident = await started(box, "echo before > /kept")
    await lifecycle.stop(box, ident, timeout=1)

    copy_to_container(box, ident, "/", tar_of({"added": b"while stopped"}))

    assert read_out(box, ident, "/kept") == {"kept": b"before\n"}
    assert read_out(box, ident, "/added") == {"added": b"while stopped"}
    assert mounts_of(ident) == []


async def test_cp_into_a_read_only_container_is_refused_naming_it(
    box: Core,
) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "1000"], read_only=True)
    )
    await lifecycle.start(box, container.id)

    with pytest.raises(PermissionDenied, match="Read-only file system") as caught:
        copy_to_container(box, container.id, "/", tar_of({"f": b"x"}))

    assert caught.value.ident.startswith(container.short_id)
    with pytest.raises(NotFound):
        read_out(box, container.id, "/f")
