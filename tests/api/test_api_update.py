"""Changing a container's limits after create: ``docker update`` through the
real docker CLI, and ``servin-tui update``, read back from the cgroup the
kernel enforces and from inspect."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from api_daemon import Daemon

from servin_core.containers.cgroups import cgroup_dirs

MIB = 1024 * 1024
T = TypeVar("T")


def eventually(probe: Callable[[], T | None], what: str) -> T:
    """Poll ``probe`` until it gives something (a deadline for a broken
    test, not a performance threshold)."""
    deadline = time.monotonic() + 60
    while (value := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return value


def cgroup_value(container_id: str, v2_name: str, v1_name: str) -> str:
    """A limit as the container's cgroup holds it: the unified (v2) file when
    the host has one, else the v1 controller's."""
    for directory in cgroup_dirs(container_id):
        for name in (v2_name, v1_name):
            if (directory / name).exists():
                return (directory / name).read_text().strip()
    raise AssertionError(f"no {v2_name} or {v1_name} for {container_id}")


def memory_limit(container_id: str) -> int:
    return int(cgroup_value(container_id, "memory.max", "memory.limit_in_bytes"))


def cpu_quota(container_id: str) -> str:
    """``QUOTA PERIOD`` on either version."""
    try:
        return cgroup_value(container_id, "cpu.max", "nonexistent")
    except AssertionError:
        quota = cgroup_value(container_id, "nonexistent", "cpu.cfs_quota_us")
        period = cgroup_value(container_id, "nonexistent", "cpu.cfs_period_us")
        return f"{quota} {period}"


def pids_max(container_id: str) -> str:
    return cgroup_value(container_id, "pids.max", "pids.max")


def host_config(daemon: Daemon, name: str) -> dict[str, object]:
    details = json.loads(daemon.docker_ok("inspect", name))[0]
    config: dict[str, object] = details["HostConfig"]
    return config


def test_docker_update_memory_changes_a_running_containers_cgroup(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok("run", "-d", "--name", "grow", busybox, "sleep", "600")
    ident = ident.strip()

    updated = daemon.docker("update", "--memory", "64m", "grow")

    assert updated.returncode == 0, updated.stderr
    assert updated.stdout == "grow\n"
    assert memory_limit(ident) == 64 * MIB
    assert host_config(daemon, "grow")["Memory"] == 64 * MIB


def test_docker_update_cpus_pids_and_restart_policy_of_a_paused_container(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok("run", "-d", "--name", "frozen", busybox, "sleep", "600")
    ident = ident.strip()
    daemon.docker_ok("pause", "frozen")

    daemon.docker_ok(
        "update",
        "--cpus",
        "0.5",
        "--pids-limit",
        "50",
        "--restart",
        "on-failure:3",
        "frozen",
    )

    assert cpu_quota(ident) == "50000 100000"
    assert pids_max(ident) == "50"
    config = host_config(daemon, "frozen")
    assert config["NanoCpus"] == 500_000_000
    assert config["PidsLimit"] == 50
    assert config["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    daemon.docker_ok("unpause", "frozen")
    assert daemon.docker_ok("exec", "frozen", "echo", "still here") == "still here\n"


def test_update_of_a_stopped_container_takes_effect_at_its_next_start(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok("create", "--name", "later", busybox, "sleep", "600")
    ident = ident.strip()

    printed = daemon.servin_ok(
        "update", "--memory", "48m", "--cpu-quota", "20000", "later"
    )
    daemon.docker_ok("start", "later")

    assert printed == "later\n"
    assert memory_limit(ident) == 48 * MIB
    assert cpu_quota(ident) == "20000 100000"
    assert host_config(daemon, "later")["Memory"] == 48 * MIB
    assert host_config(daemon, "later")["CpuQuota"] == 20000
    shown_by_cli = json.loads(daemon.servin_ok("inspect", "later"))[0]
    assert shown_by_cli["HostConfig"]["CpuQuota"] == 20000


def test_pids_limit_minus_one_removes_a_running_containers_limit(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok(
        "run", "-d", "--pids-limit", "20", busybox, "sleep", "600"
    ).strip()

    daemon.docker_ok("update", "--pids-limit", "-1", ident)

    assert pids_max(ident) == "max"
    assert host_config(daemon, ident)["PidsLimit"] is None


def test_bad_updates_name_the_container_and_change_nothing(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok(
        "run", "-d", "--name", "steady", "--memory", "32m", busybox, "sleep", "600"
    ).strip()

    too_small = daemon.docker("update", "--memory", "4m", "steady")
    swap_below = daemon.docker(
        "update", "--memory", "64m", "--memory-swap", "40m", "steady"
    )
    missing = daemon.docker("update", "--memory", "64m", "nobody")
    nothing = daemon.servin("update", "steady")
    unchanged = memory_limit(ident), host_config(daemon, "steady")["Memory"]
    cli_missing = daemon.servin("update", "--memory", "64m", "nobody", "steady")

    assert too_small.returncode != 0
    assert "steady" in too_small.stderr and "6MiB" in too_small.stderr
    assert swap_below.returncode != 0
    assert "steady" in swap_below.stderr and "memory" in swap_below.stderr
    assert missing.returncode != 0
    assert "No such container: nobody" in missing.stderr
    assert cli_missing.returncode == 1
    assert "nobody" in cli_missing.stderr
    assert cli_missing.stdout == "steady\n"  # the others are still updated
    assert nothing.returncode != 0 and "nothing to update" in nothing.stderr
    assert unchanged == (32 * MIB, 32 * MIB)
    assert memory_limit(ident) == 64 * MIB


def test_update_body_with_a_field_servin_cannot_change_is_refused(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok("create", busybox, "true").strip()

    throttled = daemon.request(
        "POST",
        f"/v1.50/containers/{ident}/update",
        {"BlkioDeviceReadBps": [{"Path": "/dev/sda", "Rate": 1024}]},
    )
    wrong_type = daemon.request(
        "POST", f"/v1.50/containers/{ident}/update", {"Memory": "64m"}
    )
    fine = daemon.request(
        "POST", f"/v1.50/containers/{ident}/update", {"CpuShares": 512}
    )

    assert throttled.status == 400
    assert "BlkioDeviceReadBps" in throttled.json()["message"]
    assert wrong_type.status == 400
    assert "Memory" in wrong_type.json()["message"]
    assert fine.status == 200
    assert fine.json() == {"Warnings": []}
    assert host_config(daemon, ident)["CpuShares"] == 512


def test_update_after_the_daemon_restarts_sees_the_stored_limits(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok("create", "--name", "kept", busybox, "true").strip()
    daemon.docker_ok("update", "--memory", "40m", "kept")

    daemon.stop()
    daemon.start()

    assert host_config(daemon, ident)["Memory"] == 40 * MIB


def test_a_restart_policy_given_while_running_applies_at_its_exit(
    daemon: Daemon, busybox: str
) -> None:
    waits_for_go = "while [ ! -f /tmp/go ]; do sleep 0.1; done; exit 3"
    daemon.docker_ok("run", "-d", "--name", "flaky", busybox, "sh", "-c", waits_for_go)

    daemon.docker_ok("update", "--restart", "on-failure:1", "flaky")
    daemon.docker_ok("exec", "flaky", "touch", "/tmp/go")

    def settled() -> dict[str, object] | None:
        details = json.loads(daemon.docker_ok("inspect", "flaky"))[0]
        done = details["RestartCount"] == 1 and details["State"]["Status"] == "exited"
        return details if done else None

    details = eventually(settled, "the restart and the second exit")
    assert details["State"]["ExitCode"] == 3


def test_cpu_quota_cpuset_and_reservation_given_at_run_reach_the_cgroup(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok(
        "run", "-d",
        "--cpu-quota", "30000", "--cpuset-cpus", "0",
        "--memory", "64m", "--memory-reservation", "20m",
        busybox, "sleep", "600",
    ).strip()  # fmt: skip

    daemon.docker_ok("update", "--cpu-quota", "40000", ident)

    assert cpu_quota(ident) == "40000 100000"
    assert cgroup_value(ident, "cpuset.cpus.effective", "cpuset.cpus") == "0"
    soft = cgroup_value(ident, "memory.low", "memory.soft_limit_in_bytes")
    assert int(soft) == 20 * MIB
    config = host_config(daemon, ident)
    assert (config["CpuQuota"], config["CpusetCpus"]) == (40000, "0")
    assert config["MemoryReservation"] == 20 * MIB


async def test_streamed_stats_come_sample_by_sample_with_the_updated_limit(
    daemon: Daemon, busybox: str
) -> None:
    import aiohttp

    ident = daemon.docker_ok("run", "-d", busybox, "sleep", "600").strip()
    daemon.docker_ok("update", "--memory", "72m", ident)

    connector = aiohttp.UnixConnector(path=str(daemon.socket))
    async with (
        aiohttp.ClientSession(connector=connector) as client,
        client.get(f"http://docker/v1.50/containers/{ident}/stats") as reply,
    ):
        samples = [json.loads(await reply.content.readline()) for _ in range(2)]

    assert reply.status == 200
    assert samples[0]["read"] != samples[1]["read"]
    assert all(s["memory_stats"]["limit"] == 72 * MIB for s in samples)
    assert all(s["pids_stats"]["current"] == 1 for s in samples)


def test_limits_the_kernel_would_refuse_are_refused_by_name(
    daemon: Daemon, busybox: str
) -> None:
    daemon.docker_ok(
        "create", "--name", "picky", "--memory", "32m", "--cpu-quota", "50000",
        busybox, "true",
    )  # fmt: skip

    refusals = {
        "cpu-period": daemon.servin("update", "--cpu-period", "500", "picky"),
        "cpus": daemon.servin("update", "--cpus", "1", "picky"),
        "cpuset-cpus": daemon.servin("update", "--cpuset-cpus", "one", "picky"),
        "memory-reservation": daemon.servin(
            "update", "--memory-reservation", "40m", "picky"
        ),
        "blkio-weight": daemon.servin("update", "--blkio-weight", "5", "picky"),
    }

    for flag, refused in refusals.items():
        assert refused.returncode == 1, flag
        assert "picky" in refused.stderr and flag in refused.stderr, refused.stderr
    config = host_config(daemon, "picky")
    keys = ("CpuPeriod", "NanoCpus", "CpusetCpus", "MemoryReservation")
    unchanged = {
        "CpuPeriod": 0,
        "NanoCpus": 0,
        "CpusetCpus": "",
        "MemoryReservation": 0,
    }
    assert {key: config[key] for key in keys} == unchanged


def test_a_limit_the_kernel_refuses_leaves_the_old_limits(
    daemon: Daemon, busybox: str
) -> None:
    # 24 MiB in tmpfs, which the container's memory cgroup is charged for
    # and this swapless host cannot reclaim.
    fills = "dd if=/dev/zero of=/dev/shm/fill bs=1M count=24 && sleep 600"
    ident = daemon.docker_ok(
        "run", "-d", "--memory", "64m", busybox, "sh", "-c", fills
    ).strip()
    daemon.docker_ok("exec", ident, "sh", "-c", "test -s /dev/shm/fill")
    cpus = cgroup_value(ident, "cpuset.cpus.effective", "cpuset.cpus")
    if Path("/proc/swaps").read_text().count("\n") > 1:
        pytest.skip("the host has swap: the kernel would move the file out")

    refused = daemon.docker(
        "update", "--memory", "8m", "--pids-limit", "30", "--cpuset-cpus", "0", ident
    )

    assert refused.returncode != 0
    assert ident in refused.stderr
    assert memory_limit(ident) == 64 * MIB
    assert pids_max(ident) == "max"
    # runc had changed the CPUs before the kernel refused the memory limit.
    assert cgroup_value(ident, "cpuset.cpus.effective", "cpuset.cpus") == cpus
    config = host_config(daemon, ident)
    assert (config["Memory"], config["PidsLimit"]) == (64 * MIB, None)


def test_zero_leaves_a_limit_as_it_is_as_docker_update_does(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok(
        "run", "-d", "--memory", "32m", "--cpu-shares", "512", busybox, "sleep", "600"
    ).strip()

    daemon.servin_ok(
        "update", "--memory", "0", "--cpu-shares", "0", "--cpus", "1", ident
    )

    config = host_config(daemon, ident)
    assert (config["Memory"], config["CpuShares"]) == (32 * MIB, 512)
    assert config["NanoCpus"] == 1_000_000_000
    assert memory_limit(ident) == 32 * MIB
    assert cpu_quota(ident) == "100000 100000"
