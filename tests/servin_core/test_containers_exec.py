"""exec, top and diff against real busybox containers run by conmon and runc:
what an exec'd command prints and returns, as whom and where it runs, and
what the container's processes and file changes look like."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import import_busybox, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.diff import diff
from servin_core.containers.exec import ExecFailed, exec_
from servin_core.containers.model import ContainerConfig, config_from_data
from servin_core.containers.top import top
from servin_core.core import Core
from servin_core.errors import Conflict

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


async def running(core: Core, **config: object) -> str:
    """A started container that sleeps; its ID."""
    container = await lifecycle.create(
        core,
        config_from_data({"image": IMAGE, "cmd": ["sleep", "600"], **config}),
    )
    await lifecycle.start(core, container.id)
    return container.id


async def run_exec(
    core: Core, ident: str, *cmd: str, stdin: bytes | None = None, **options: object
) -> tuple[int, bytes, bytes]:
    """exec ``cmd``; its status, stdout and stderr."""
    with open(os.devnull, "rb") as null:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        in_r, in_w = os.pipe()
        try:
            if stdin is not None:
                os.write(in_w, stdin)
            os.close(in_w)
            status = await exec_(
                core,
                ident,
                list(cmd),
                stdin=in_r if stdin is not None else null.fileno(),
                stdout=out_w,
                stderr=err_w,
                **options,  # type: ignore[arg-type]
            )
        finally:
            for fd in (out_w, err_w, in_r):
                os.close(fd)
        with open(out_r, "rb") as out, open(err_r, "rb") as err:
            return status, out.read(), err.read()


async def test_exec_echo_prints_and_returns_zero(box: Core) -> None:
    ident = await running(box)

    assert await run_exec(box, ident, "echo", "hello") == (0, b"hello\n", b"")


async def test_exec_keeps_streams_apart_and_returns_the_status(box: Core) -> None:
    ident = await running(box)

    result = await run_exec(box, ident, "sh", "-c", "echo out; echo err >&2; exit 3")

    assert result == (3, b"out\n", b"err\n")


async def test_exec_env_user_and_workdir(box: Core) -> None:
    ident = await running(box, env=["FROM_CREATE=1", "SHARED=create"])

    status, out, _ = await run_exec(
        box, ident, "sh", "-c", 'echo "$FROM_CREATE $SHARED $HOME"; id; pwd',
        env=["SHARED=exec"], user="nobody", workdir="/tmp",
    )  # fmt: skip

    assert status == 0
    assert out.decode().splitlines() == [
        "1 exec /nonexistent",
        "uid=65534(nobody) gid=65534(nogroup)",
        "/tmp",
    ]


async def test_exec_keeps_the_containers_confinement(box: Core) -> None:
    ident = await running(box, cap_drop=["NET_RAW"])

    status, out, _ = await run_exec(
        box, ident, "sh", "-c", "grep -E '^(CapBnd|NoNewPrivs)' /proc/self/status"
    )

    assert status == 0
    fields = dict(line.split(":\t") for line in out.decode().splitlines())
    assert int(fields["CapBnd"], 16) & (1 << 13) == 0  # CAP_NET_RAW dropped
    assert int(fields["CapBnd"], 16) & (1 << 0) != 0  # CAP_CHOWN kept


async def test_stdin_reaches_the_command_and_its_end_too(box: Core) -> None:
    ident = await running(box)

    result = await run_exec(box, ident, "sh", "-c", "wc -l", stdin=b"a\nb\nc\n")

    assert result[0] == 0
    assert result[1].strip() == b"3"


async def test_missing_command_is_127_and_not_executable_126(box: Core) -> None:
    ident = await running(box)

    with pytest.raises(ExecFailed) as missing:
        await run_exec(box, ident, "no-such-command")
    with pytest.raises(ExecFailed) as not_executable:
        await run_exec(box, ident, "/etc/passwd")

    assert missing.value.status == 127
    assert "no-such-command" in str(missing.value)
    assert not_executable.value.status == 126


async def test_detached_exec_leaves_the_command_running(box: Core) -> None:
    ident = await running(box)

    status = await exec_(
        box, ident, ["sh", "-c", "echo done > /tmp/marker"], detach=True
    )

    assert status == 0

    async def marker() -> bytes:
        return (await run_exec(box, ident, "cat", "/tmp/marker"))[1]

    for _ in range(200):
        if await marker() == b"done\n":
            break
    assert await marker() == b"done\n"


async def test_exec_in_a_stopped_container_is_a_conflict(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["true"]), name="finished"
    )
    await lifecycle.start(box, container.id)
    await lifecycle.wait(box, container.id)

    with pytest.raises(Conflict, match="container finished: is not running"):
        await exec_(box, "finished", ["echo", "hi"])


async def test_top_lists_the_containers_processes_only(box: Core) -> None:
    ident = await running(box)

    table = await top(box, ident)

    titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]
    assert table.titles == titles
    commands = [row[-1] for row in table.processes]
    assert commands == ["sleep 600"]
    assert int(table.processes[0][1]) == box.containers.get(ident).pid


async def test_top_takes_ps_options(box: Core) -> None:
    ident = await running(box)

    table = await top(box, ident, ["-o", "pid,comm"])

    assert table.titles == ["PID", "COMMAND"]
    assert [row[1] for row in table.processes] == ["sleep"]


async def test_top_of_a_stopped_container_is_a_conflict(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["true"]), name="ended"
    )

    with pytest.raises(Conflict, match="container ended: is not running"):
        await top(box, container.id)


async def test_diff_shows_added_changed_and_deleted_paths(box: Core) -> None:
    ident = await running(box)
    script = (
        "echo new > /tmp/added; echo more >> /etc/passwd; rm /etc/group;"
        " mkdir -p /srv/data"
    )

    status, _, _ = await run_exec(box, ident, "sh", "-c", script)
    await lifecycle.stop(box, ident, timeout=0)

    assert status == 0
    found = {(change.kind, change.path) for change in await diff(box, ident)}
    assert found == {
        ("C", "/etc"),
        ("C", "/etc/passwd"),
        ("D", "/etc/group"),
        ("C", "/tmp"),
        ("A", "/tmp/added"),
        ("A", "/srv"),
        ("A", "/srv/data"),
    }


async def test_diff_of_a_directory_made_again_deletes_what_it_held(
    box: Core,
) -> None:
    ident = await running(box)
    _, listing, _ = await run_exec(box, ident, "ls", "/usr/sbin")

    await run_exec(box, ident, "sh", "-c", "rm -rf /usr/sbin && mkdir /usr/sbin")

    found = [(c.kind, c.path) for c in await diff(box, ident)]
    held = listing.decode().split()
    assert held
    assert found == [
        ("C", "/usr"),
        ("C", "/usr/sbin"),
        *sorted(("D", f"/usr/sbin/{name}") for name in held),
    ]


async def test_diff_sees_the_image_through_its_own_whiteouts(
    core: Core, busybox_rootfs_tar: Path, tmp_path: Path
) -> None:
    """A file the image's top layer deleted is new when the container makes
    it again; one the top layer replaced is changed."""
    layer = tmp_path / "top.tar"
    with tarfile.open(layer, "w") as tar:
        tar.addfile(tarfile.TarInfo("etc/.wh.group"))
        note = b"from the top layer\n"
        info = tarfile.TarInfo("etc/note")
        info.size, info.mode = len(note), 0o644
        tar.addfile(info, io.BytesIO(note))
    await import_busybox(core, busybox_rootfs_tar, layer)
    try:
        ident = await running(core)
        script = "echo back > /etc/group; echo more >> /etc/note"
        status, _, _ = await run_exec(core, ident, "sh", "-c", script)

        assert status == 0
        assert [(c.kind, c.path) for c in await diff(core, ident)] == [
            ("C", "/etc"),
            ("A", "/etc/group"),
            ("C", "/etc/note"),
        ]
    finally:
        await remove_all(core)
