"""Real containers through conmon and runc on overlayfs: what they print,
how they exit, who they run as, and how stop, kill, pause and rm behave."""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import GONE, NO_LEAKS, gone, import_busybox, leaks, remove_all
from shell_scripts import EXITS_7_ON_USR1

from servin_core.containers import lifecycle
from servin_core.containers.cgroups import cgroup_dirs
from servin_core.containers.locked import locked
from servin_core.containers.logs import read_logs
from servin_core.containers.model import ContainerConfig, Resources, State
from servin_core.containers.start import start_locked
from servin_core.core import Core
from servin_core.errors import Conflict, InvalidArgument

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


async def run(core: Core, *cmd: str, **config: object) -> tuple[str, int]:
    """Create and start a container; its ID and exit status."""
    container = await lifecycle.create(
        core,
        ContainerConfig(image=IMAGE, cmd=list(cmd), **config),  # type: ignore[arg-type]
    )
    await lifecycle.start(core, container.id)
    return container.id, await lifecycle.wait(core, container.id)


async def output(core: Core, container_id: str) -> dict[str, bytes]:
    container = core.containers.get(container_id)
    streams = {"stdout": b"", "stderr": b""}
    async for line in read_logs(core, container):
        streams[line.stream] += line.data
    return streams


async def test_output_streams_and_exit_status(box: Core) -> None:
    ident, status = await run(box, "sh", "-c", "echo out; echo err >&2; exit 3")

    assert status == 3
    assert await output(box, ident) == {"stdout": b"out\n", "stderr": b"err\n"}
    container = box.containers.get(ident)
    assert container.state is State.EXITED
    assert container.exit_code == 3
    assert leaks(box, ident) == NO_LEAKS


async def test_env_user_and_workdir(box: Core) -> None:
    script = 'echo "$GREETING $HOME"; id; pwd'
    ident, status = await run(
        box, "sh", "-c", script, env=["GREETING=hello"], user="nobody",
        workdir="/srv/app",
    )  # fmt: skip

    assert status == 0
    lines = (await output(box, ident))["stdout"].decode().splitlines()
    assert lines == [
        "hello /nonexistent",
        "uid=65534(nobody) gid=65534(nogroup)",
        "/srv/app",
    ]


async def test_numeric_user_and_supplementary_groups(
    core: Core, busybox_rootfs_tar: Path, tmp_path: Path
) -> None:
    layer = tmp_path / "groups.tar"
    group = b"root:x:0:\nnogroup:x:65534:\nstaff:x:50:nobody\nwheel:x:10:nobody\n"
    with tarfile.open(layer, "w") as tar:
        info = tarfile.TarInfo("etc/group")
        info.size, info.mode = len(group), 0o644
        tar.addfile(info, io.BytesIO(group))
    await import_busybox(core, busybox_rootfs_tar, layer)
    try:
        named, _ = await run(core, "id", user="nobody")
        numeric, _ = await run(core, "id", user="1234:50")

        assert (await output(core, named))["stdout"] == (
            b"uid=65534(nobody) gid=65534(nogroup) groups=10(wheel),50(staff)\n"
        )
        assert (await output(core, numeric))["stdout"] == (b"uid=1234 gid=50(staff)\n")
    finally:
        await remove_all(core)


async def test_image_env_and_docker_defaults(box: Core) -> None:
    ident, _ = await run(
        box, "sh", "-c", "echo $PATH; hostname; cat /etc/hostname", hostname="web"
    )

    assert (await output(box, ident))["stdout"] == (
        b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nweb\nweb\n"
    )


async def test_stop_sends_the_stop_signal_then_sigkill(box: Core) -> None:
    script = 'trap "echo got TERM" TERM; echo ready; while true; do sleep 0.1; done'
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sh", "-c", script])
    )
    await lifecycle.start(box, container.id)
    await _wait_for_output(box, container.id, b"ready\n")

    stopped = await lifecycle.stop(box, container.id, timeout=1)

    assert stopped.state is State.EXITED
    assert stopped.exit_code == 137
    assert (await output(box, container.id))["stdout"] == b"ready\ngot TERM\n"
    assert leaks(box, container.id) == NO_LEAKS


async def test_stop_of_a_process_that_obeys_takes_its_status(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "1000"], init=True)
    )
    await lifecycle.start(box, container.id)

    stopped = await lifecycle.stop(box, container.id, timeout=30)

    # catatonit passes SIGTERM on; sleep dies of it: 128 + 15.
    assert stopped.exit_code == 143


# Ignores SIGTERM (noisily: any TERM it gets shows in its output) and exits
# 7 on SIGUSR1; sh runs a trap once its foreground sleep ends.


async def _start_usr1_stoppable(core: Core) -> str:
    container = await lifecycle.create(
        core, ContainerConfig(image=IMAGE, cmd=["sh", "-c", EXITS_7_ON_USR1])
    )
    await lifecycle.start(core, container.id)
    await _wait_for_output(core, container.id, b"ready\n")
    return container.id


async def test_stop_with_a_signal_sends_it_instead_of_the_stop_signal(
    box: Core,
) -> None:
    ident = await _start_usr1_stoppable(box)

    stopped = await lifecycle.stop(box, ident, timeout=30, signal="SIGUSR1")

    # Its own exit, not the timeout's SIGKILL (137), and no SIGTERM.
    assert stopped.exit_code == 7
    assert (await output(box, ident))["stdout"] == b"ready\n"
    assert stopped.stopped_by_user is True


async def test_restart_with_a_signal_stops_with_it_and_runs_again(box: Core) -> None:
    ident = await _start_usr1_stoppable(box)

    restarted = await lifecycle.restart(box, ident, timeout=30, signal="USR1")

    assert restarted.state is State.RUNNING
    # No SIGTERM ("got TERM"), and the first run ended through its USR1 trap.
    await _wait_for_output(box, ident, b"ready\nready\n")
    died = [e for e in box.events.since() if e.actor_id == ident and e.action == "die"]
    assert [e.attributes["exitCode"] for e in died] == ["7"]


async def test_stop_with_an_unknown_signal_is_refused_and_sends_nothing(
    box: Core,
) -> None:
    ident = await _start_usr1_stoppable(box)
    name = box.containers.get(ident).name

    with pytest.raises(InvalidArgument) as refused:
        await lifecycle.stop(box, ident, timeout=1, signal="SIGNOPE")
    with pytest.raises(InvalidArgument):
        await lifecycle.restart(box, ident, timeout=1, signal="99999")

    assert str(refused.value) == (
        f"container {name}: cannot stop with 'SIGNOPE': unknown signal"
    )
    running = lifecycle.refresh(box, box.containers.get(ident))
    assert running.state is State.RUNNING
    assert running.stopped_by_user is False
    assert (await output(box, ident))["stdout"] == b"ready\n"


async def test_kill_with_a_signal(box: Core) -> None:
    container = await lifecycle.create(
        box,
        ContainerConfig(
            image=IMAGE, cmd=["sh", "-c", "echo ready; exec sleep 1000"], init=True
        ),
    )
    await lifecycle.start(box, container.id)
    # The init process forwards signals once it has started its child; a
    # signal sent before that would be lost (PID 1 ignores what it does not
    # handle), so wait for the child to speak.
    await _wait_for_output(box, container.id, b"ready\n")

    await lifecycle.kill(box, container.id, signal="SIGUSR1")
    status = await lifecycle.wait(box, container.id)

    assert status == 128 + 10
    assert box.containers.get(container.id).stopped_by_user is False


async def test_pause_freezes_and_unpause_thaws(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "1000"])
    )
    await lifecycle.start(box, container.id)
    freezer = next(p for p in cgroup_dirs(container.id) if "freezer" in str(p))

    paused = await lifecycle.pause(box, container.id)
    assert paused.state is State.PAUSED
    assert (freezer / "freezer.state").read_text().strip() == "FROZEN"
    with pytest.raises(Conflict, match="cannot pause a container that is paused"):
        await lifecycle.pause(box, container.id)

    resumed = await lifecycle.unpause(box, container.id)
    assert resumed.state is State.RUNNING
    assert (freezer / "freezer.state").read_text().strip() == "THAWED"


async def test_a_paused_container_stops(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "1000"])
    )
    await lifecycle.start(box, container.id)
    await lifecycle.pause(box, container.id)

    stopped = await lifecycle.stop(box, container.id, timeout=1)

    assert stopped.state is State.EXITED
    assert leaks(box, container.id) == NO_LEAKS


async def test_a_paused_container_is_removed_with_force(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "1000"])
    )
    await lifecycle.start(box, container.id)
    await lifecycle.pause(box, container.id)

    await lifecycle.remove(box, container.id, force=True)

    assert box.containers.list() == []
    assert gone(box, container.id) == GONE


async def test_removing_a_running_container_needs_force(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "1000"])
    )
    await lifecycle.start(box, container.id)

    with pytest.raises(Conflict, match="cannot remove a container that is running"):
        await lifecycle.remove(box, container.id)
    assert box.containers.get(container.id).state is State.RUNNING

    await lifecycle.remove(box, container.id, force=True)
    assert gone(box, container.id) == GONE


async def test_restart_runs_the_command_again(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sh", "-c", "echo run; sleep 1000"])
    )
    await lifecycle.start(box, container.id)
    await _wait_for_output(box, container.id, b"run\n")

    restarted = await lifecycle.restart(box, container.id, timeout=0)

    assert restarted.state is State.RUNNING
    await _wait_for_output(box, container.id, b"run\nrun\n")


async def test_start_of_a_stopped_container_and_prune(box: Core) -> None:
    ident, _ = await run(box, "sh", "-c", "echo again")
    await lifecycle.start(box, ident)
    assert await lifecycle.wait(box, ident) == 0
    assert (await output(box, ident))["stdout"] == b"again\nagain\n"

    running = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "1000"])
    )
    await lifecycle.start(box, running.id)

    assert await lifecycle.prune(box) == [ident]
    assert gone(box, ident) == GONE
    assert box.containers.get(running.id).state is State.RUNNING


async def test_rename(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["true"]), name="before"
    )

    renamed = lifecycle.rename(box, "before", "after")

    assert renamed.name == "after"
    assert box.containers.resolve("after").id == container.id


async def _wait_for_output(core: Core, ident: str, expected: bytes) -> None:
    container = core.containers.get(ident)
    seen = b""
    async for line in read_logs(core, container, follow=True):
        if line.stream == "stdout":
            seen += line.data
        if seen == expected:
            return
    raise AssertionError(f"the container ended having printed {seen!r}")


async def test_the_memory_limit_oom_kills_and_says_so(box: Core) -> None:
    # The shell keeps 300 MB in a variable under a 32 MiB limit.
    ident, status = await run(
        box,
        "sh",
        "-c",
        'a=$(head -c 300000000 /dev/zero | tr "\\0" x); echo survived ${#a}',
        resources=Resources(memory=32 << 20),
    )

    assert status == 137
    container = box.containers.get(ident)
    assert container.oom_killed is True
    assert container.exit_code == 137
    assert b"survived" not in (await output(box, ident))["stdout"]


# start_locked's ``meanwhile``: the caller's own work while the runtime
# creates the container (``run`` imports what follows the output then).


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
