"""The daemonless guarantees: containers outlive the process that started
them, other processes see and control them, restart policies and --rm are
applied after exit with no daemon, and a start killed mid-way is cleaned up
by the next command with nothing leaked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import (
    GONE,
    NO_LEAKS,
    eventually,
    gone,
    import_busybox,
    leaks,
    mounts_of,
    processes_naming,
    remove_all,
)

from servin_core.config import Config
from servin_core.containers import lifecycle
from servin_core.containers.cgroups import cgroup_dirs
from servin_core.containers.model import ContainerConfig, RestartPolicy, State
from servin_core.core import Core

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


def in_other_process(core: Core, body: str) -> subprocess.Popen[str]:
    """Run ``body`` (async code with ``core`` and ``lifecycle`` in scope) in a
    new Python process on the same state, printing what it prints."""
    code = textwrap.dedent(
        """
        import asyncio, sys
        from servin_core.config import Config
        from servin_core.containers import lifecycle
        from servin_core.containers.model import ContainerConfig
        from servin_core.core import Core

        async def main(core):
        {body}

        with Core.open(Config.from_json(sys.argv[1])) as core:
            asyncio.run(main(core))
        """
    ).format(body=textwrap.indent(textwrap.dedent(body), "    "))
    return subprocess.Popen(
        [sys.executable, "-c", code, core.config.to_json()],
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_a_detached_container_outlives_its_starter(box: Core) -> None:
    starter = in_other_process(
        box,
        f"""
        config = ContainerConfig(image="{IMAGE}", cmd=["sleep", "1000"])
        container = await lifecycle.create(core, config, name="detached")
        await lifecycle.start(core, container.id)
        print(container.id, flush=True)
        """,
    )
    out, _ = starter.communicate()
    assert starter.returncode == 0
    ident = out.strip()

    container = lifecycle.refresh(box, box.containers.get(ident))
    assert container.state is State.RUNNING
    os.kill(container.pid, 0)  # the process exists

    stopper = in_other_process(
        box, 'print((await lifecycle.stop(core, "detached", timeout=1)).state)'
    )
    assert stopper.communicate()[0].strip() == "exited"

    assert box.containers.get(ident).state is State.EXITED
    assert leaks(box, ident) == NO_LEAKS


async def test_a_start_killed_midway_is_cleaned_up_by_the_next_command(
    box: Core,
) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "1000"]), name="midway"
    )
    # The starter stops for good once the runtime has created the container
    # (mounted, cgroups made, conmon running): the moment to kill it.
    starter = in_other_process(
        box,
        """
        import os, signal
        from servin_core.containers import start
        real_launch = start.launch
        def launch_then_stop(*args, **kwargs):
            launched = real_launch(*args, **kwargs)
            print("created", flush=True)
            os.kill(os.getpid(), signal.SIGSTOP)
            return launched
        start.launch = launch_then_stop
        await lifecycle.start(core, "midway")
        """,
    )
    assert starter.stdout is not None
    assert starter.stdout.readline().strip() == "created"
    assert mounts_of(container.id) != []
    assert cgroup_dirs(container.id) != []

    starter.send_signal(signal.SIGKILL)
    starter.wait()
    starter.stdout.close()

    # The next command (any: opening the core reconciles).
    with Core.open(Config.from_json(box.config.to_json())) as next_:
        after = next_.containers.get(container.id)
        assert after.state is State.CREATED
        assert leaks(next_, container.id) == NO_LEAKS

        started = await lifecycle.start(next_, "midway")
        assert started.state is State.RUNNING


async def test_on_failure_2_restarts_exactly_twice(box: Core) -> None:
    container = await lifecycle.create(
        box,
        ContainerConfig(
            image=IMAGE,
            cmd=["sh", "-c", "echo run; exit 1"],
            restart=RestartPolicy(name="on-failure", maximum_retry=2),
        ),
    )
    await lifecycle.start(box, container.id)

    def settled() -> bool:
        current = lifecycle.refresh(box, box.containers.get(container.id))
        return current.state is State.EXITED and not processes_naming(container.id)

    eventually(settled, "the restarts to end")
    final = box.containers.get(container.id)
    assert final.restart_count == 2
    assert final.exit_code == 1
    starts = [e for e in box.events.since() if e.action == "start"]
    assert len(starts) == 3
    assert leaks(box, container.id) == NO_LEAKS


async def test_always_restarts_until_stopped(box: Core) -> None:
    container = await lifecycle.create(
        box,
        ContainerConfig(
            image=IMAGE, cmd=["true"], restart=RestartPolicy(name="always")
        ),
    )
    await lifecycle.start(box, container.id)

    eventually(
        lambda: box.containers.get(container.id).restart_count >= 2, "two restarts"
    )
    stopped = await lifecycle.stop(box, container.id, timeout=1)

    assert stopped.state is State.EXITED
    assert stopped.stopped_by_user
    eventually(lambda: not processes_naming(container.id), "cleanups to end")
    assert box.containers.get(container.id).state is State.EXITED
    assert leaks(box, container.id) == NO_LEAKS


async def test_auto_remove_removes_everything(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sh", "-c", "exit 4"], auto_remove=True)
    )
    await lifecycle.start(box, container.id)

    status = await lifecycle.wait(box, container.id, condition="removed")

    assert status == 4
    eventually(lambda: gone(box, container.id) == GONE, "removal")
