"""The security and resource settings, applied by a real OCI runtime.

Each test writes an OCI bundle of its own (Debian's busybox-static and one
link per applet; a minimal spec like the one spec.py writes) and runs it
with ``runc run``; crun refuses this host's hybrid cgroups. The spec goes
through apply_security and apply_resources exactly as a container's would,
so what the process inside sees is what a user of Servin would see.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from servin_core.containers.model import ContainerConfig, Resources, Ulimit
from servin_core.containers.resources import apply_resources
from servin_core.containers.security import MASKED_PATHS, apply_security

RUNC = shutil.which("runc")
BUSYBOX = Path("/bin/busybox")
CGROUP_ROOT = Path("/sys/fs/cgroup")

pytestmark = pytest.mark.skipif(
    RUNC is None or os.geteuid() != 0 or not BUSYBOX.exists(),
    reason="needs root, runc and busybox-static",
)


@pytest.fixture(scope="module")
def rootfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """busybox and its applet links, shared read-mostly by the tests."""
    root = tmp_path_factory.mktemp("rootfs")
    for name in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp"):
        (root / name).mkdir(parents=True)
    (root / "tmp").chmod(0o1777)
    shutil.copy2(BUSYBOX, root / "bin/busybox")
    applets = subprocess.run(
        [str(BUSYBOX), "--list-full"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        if applet != "bin/busybox":
            (root / applet).symlink_to("/bin/busybox")
    return root


def _base_spec(rootfs: Path, args: list[str], cgroup: str) -> dict[str, Any]:
    """What spec.py gives the security functions: process, root, mounts,
    namespaces and cgroup path, with no confinement yet."""
    nosuid = ["nosuid", "noexec", "nodev"]
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            "cwd": "/",
        },
        "root": {"path": str(rootfs)},
        "hostname": "sec",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
            },
            {
                "destination": "/dev/pts",
                "type": "devpts",
                "source": "devpts",
                "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666"],
            },
            {
                "destination": "/sys",
                "type": "sysfs",
                "source": "sysfs",
                "options": ["ro", *nosuid],
            },
            {
                "destination": "/sys/fs/cgroup",
                "type": "cgroup",
                "source": "cgroup",
                "options": ["ro", *nosuid],
            },
            {
                "destination": "/tmp",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "nodev"],
            },
        ],
        "linux": {
            "namespaces": [
                {"type": t} for t in ("pid", "ipc", "uts", "mount", "network")
            ],
            "cgroupsPath": cgroup,
        },
    }


class Runner:
    """Runs one container per call in a bundle of its own, and afterwards
    checks that no cgroup of it is left behind."""

    def __init__(self, rootfs: Path, work: Path) -> None:
        self.rootfs = rootfs
        self.work = work
        self.state = work / "runc-state"
        self.cgroups: list[str] = []

    def run(
        self, config: ContainerConfig, script: str
    ) -> subprocess.CompletedProcess[str]:
        ident = "servin-sectest-" + secrets.token_hex(6)
        cgroup = "/" + ident
        self.cgroups.append(cgroup)
        spec = _base_spec(self.rootfs, ["/bin/sh", "-c", script], cgroup)
        apply_security(spec, config)
        apply_resources(spec, config)

        bundle = self.work / ident
        bundle.mkdir()
        (bundle / "config.json").write_text(json.dumps(spec))
        command = [
            str(RUNC),
            "--root",
            str(self.state),
            "run",
            "--bundle",
            str(bundle),
            ident,
        ]
        try:
            return subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=60,  # a bound against a hung test, not a measurement
            )
        finally:
            subprocess.run(
                [str(RUNC), "--root", str(self.state), "delete", "-f", ident],
                capture_output=True,
            )
            shutil.rmtree(bundle)

    def leftover_cgroups(self) -> list[Path]:
        return [
            CGROUP_ROOT / controller / cgroup.lstrip("/")
            for controller in ("memory", "pids", "cpu", "devices", "freezer")
            for cgroup in self.cgroups
            if (CGROUP_ROOT / controller / cgroup.lstrip("/")).exists()
        ]


@pytest.fixture
def runner(rootfs: Path, tmp_path: Path) -> Iterator[Runner]:
    r = Runner(rootfs, tmp_path)
    yield r
    left = r.leftover_cgroups()
    for path in left:
        path.rmdir()
    assert left == []


def _config(**fields: Any) -> ContainerConfig:
    return ContainerConfig(image="busybox", **fields)


def test_the_default_seccomp_profile_refuses_unshare(runner: Runner) -> None:
    ok = runner.run(_config(), "true")
    assert ok.returncode == 0, ok.stderr

    refused = runner.run(_config(), "unshare -U true")
    assert refused.returncode != 0
    assert "Operation not permitted" in refused.stderr


def test_unconfined_seccomp_lets_unshare_through(runner: Runner) -> None:
    result = runner.run(_config(security_opt=["seccomp=unconfined"]), "unshare -U true")
    assert result.returncode == 0, result.stderr


def _read_sizes(runner: Runner, config: ContainerConfig) -> dict[str, int]:
    """How many bytes each masked file gives inside (-1: reading failed)."""
    script = "".join(
        f"echo {p}=$(cat {p} 2>/dev/null | wc -c); "
        for p in MASKED_PATHS
        if not p.startswith("/sys")
    )
    result = runner.run(config, script)
    sizes = dict(line.split("=") for line in result.stdout.splitlines())
    return {path: int(size) for path, size in sizes.items()}


def test_masked_proc_files_read_empty(runner: Runner) -> None:
    # /proc/kcore is absent from this host's kernel; the masked files that do
    # exist show that masking works, and reading kcore must give nothing too.
    present = [p for p in MASKED_PATHS if Path(p).is_file()]
    assert "/proc/interrupts" in present

    masked = _read_sizes(runner, _config())
    assert masked["/proc/kcore"] == 0
    assert all(masked[p] == 0 for p in present), masked

    unmasked = _read_sizes(runner, _config(security_opt=["systempaths=unconfined"]))
    assert unmasked["/proc/interrupts"] > 0


def test_proc_sys_is_read_only(runner: Runner) -> None:
    script = "echo 1 > /proc/sys/kernel/ns_last_pid && echo sys-writable"
    result = runner.run(_config(), script)
    assert "sys-writable" not in result.stdout
    assert "Read-only file system" in result.stderr


# The dummy link type is not built into this host's kernel; a bridge needs the
# same capability and is.
ADD_LINK = "ip link add br0 type bridge && ip link show br0"


def test_adding_a_link_needs_cap_net_admin(runner: Runner) -> None:
    refused = runner.run(_config(), ADD_LINK)
    assert refused.returncode != 0
    assert "Operation not permitted" in refused.stderr

    allowed = runner.run(_config(cap_add=["net_admin"]), ADD_LINK)
    assert allowed.returncode == 0, allowed.stderr
    assert "br0" in allowed.stdout


def test_capabilities_and_no_new_privileges_reach_the_process(
    runner: Runner,
) -> None:
    config = _config(
        cap_drop=["ALL"], cap_add=["CAP_NET_ADMIN"], security_opt=["no-new-privileges"]
    )
    result = runner.run(
        config, "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status"
    )
    lines = dict(line.split(":\t") for line in result.stdout.splitlines())
    assert int(lines["CapEff"], 16) == 1 << 12  # CAP_NET_ADMIN only
    assert int(lines["CapBnd"], 16) == 1 << 12
    assert lines["NoNewPrivs"] == "1"


def test_a_read_only_root_refuses_writes(runner: Runner) -> None:
    result = runner.run(_config(read_only=True), "touch /written && echo wrote")
    assert result.returncode != 0
    assert "wrote" not in result.stdout
    assert "Read-only file system" in result.stderr
    assert not (runner.rootfs / "written").exists()


def test_the_pids_limit_stops_a_process_spawner(runner: Runner) -> None:
    # Starts 100 sleepers, numbering each; the shell dies at the first fork
    # the pids cgroup refuses, and the pid namespace takes the rest with it.
    script = "for i in $(seq 100); do sleep 1000 & echo $i; done"
    result = runner.run(_config(resources=Resources(pids_limit=16)), script)
    started = [int(n) for n in result.stdout.split()]
    assert "can't fork" in result.stderr
    assert 0 < len(started) < 16


def test_the_memory_limit_is_set_in_the_cgroup(runner: Runner) -> None:
    config = _config(resources=Resources(memory=64 * 1024 * 1024))
    script = (
        "cat /sys/fs/cgroup/memory/memory.limit_in_bytes "
        "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes"
    )
    result = runner.run(config, script)
    assert result.stdout.split() == [str(64 << 20), str(128 << 20)], result.stderr


def test_rlimits_default_to_the_callers_and_follow_ulimits(runner: Runner) -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    default = runner.run(_config(), "ulimit -Sn; ulimit -Hn")
    assert default.stdout.split() == [str(soft), str(hard)], default.stderr

    limited = _config(
        resources=Resources(ulimits=(Ulimit(name="nofile", soft=256, hard=512),))
    )
    result = runner.run(limited, "ulimit -Sn; ulimit -Hn")
    assert result.stdout.split() == ["256", "512"], result.stderr


def test_a_device_is_created_and_allowed(runner: Runner) -> None:
    from servin_core.containers.resources import parse_device

    config = _config(
        resources=Resources(devices=(parse_device("/dev/full:/dev/myfull"),))
    )
    result = runner.run(config, "stat -c %t:%T /dev/myfull; echo x > /dev/myfull")
    assert result.stdout.split()[0] == "1:7"
    assert "No space left on device" in result.stderr


def test_cpu_quota_and_shares_are_set_in_the_cgroup(runner: Runner) -> None:
    config = _config(resources=Resources(nano_cpus=500_000_000, cpu_shares=512))
    script = (
        "cd /sys/fs/cgroup/cpu && cat cpu.cfs_quota_us cpu.cfs_period_us cpu.shares"
    )
    result = runner.run(config, script)
    assert result.stdout.split() == ["50000", "100000", "512"], result.stderr


def test_namespaced_sysctls_reach_the_container_only(runner: Runner) -> None:
    host_value = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text()
    wanted = "1" if host_value.strip() != "1" else "2"
    config = _config(
        resources=Resources(sysctls={"net.ipv4.ip_unprivileged_port_start": wanted})
    )
    result = runner.run(config, "cat /proc/sys/net/ipv4/ip_unprivileged_port_start")
    assert result.stdout.strip() == wanted, result.stderr
    assert Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text() == (
        host_value
    )


def test_privileged_lifts_seccomp_masks_and_capabilities(runner: Runner) -> None:
    script = (
        "unshare -U true && echo unshared; "
        "echo interrupts=$(cat /proc/interrupts | wc -c); "
        "grep CapEff /proc/self/status; "
        "ls /dev/loop-control"
    )
    result = runner.run(_config(privileged=True), script)
    assert "unshared" in result.stdout, result.stderr
    sizes = dict(line.split("=") for line in result.stdout.splitlines() if "=" in line)
    assert int(sizes["interrupts"]) > 0
    cap_eff = int(result.stdout.split("CapEff:")[1].split()[0], 16)
    assert cap_eff >> 21 & 1  # CAP_SYS_ADMIN
    assert "/dev/loop-control" in result.stdout


def test_a_docker_format_profile_file_is_enforced(
    runner: Runner, tmp_path: Path
) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [
            {
                "architecture": "SCMP_ARCH_X86_64",
                "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            },
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": []},
        ],
        "syscalls": [
            {
                "names": ["mkdir", "mkdirat"],
                "action": "SCMP_ACT_ERRNO",
                "errnoRet": 13,  # EACCES
            }
        ],
    }
    path = tmp_path / "no-mkdir.json"
    path.write_text(json.dumps(profile))
    config = _config(security_opt=[f"seccomp={path}"])
    result = runner.run(
        config, "mkdir /tmp/d || echo refused; unshare -U true && echo ok"
    )
    assert "refused" in result.stdout
    assert "Permission denied" in result.stderr
    assert "ok" in result.stdout  # everything else is allowed by this profile
