"""apply_security on spec dicts: what the OCI runtime will be told."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from servin_core.containers.capabilities import CAPABILITY_NAMES
from servin_core.containers.model import ContainerConfig, Device, Resources
from servin_core.containers.security import apply_security
from servin_core.errors import InvalidArgument

DOCKER_DEFAULT_CAPS = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
}


def _spec(*, host_network: bool = False) -> dict[str, Any]:
    namespaces: list[dict[str, str]] = [
        {"type": t} for t in ("pid", "ipc", "uts", "mount")
    ]
    if host_network:
        namespaces.append({"type": "network", "path": "/proc/1/ns/net"})
    else:
        namespaces.append({"type": "network"})
    return {
        "process": {},
        "root": {"path": "rootfs"},
        "linux": {"namespaces": namespaces},
    }


def _apply(**fields: Any) -> dict[str, Any]:
    spec = _spec(host_network=fields.pop("host_network", False))
    apply_security(spec, ContainerConfig(image="busybox", **fields))
    return spec


def _caps(spec: dict[str, Any]) -> dict[str, list[str]]:
    caps: dict[str, list[str]] = spec["process"]["capabilities"]
    return caps


def test_default_capabilities_are_dockers_fourteen() -> None:
    caps = _caps(_apply())
    assert len(caps["bounding"]) == 14
    for kind in ("bounding", "effective", "permitted"):
        assert set(caps[kind]) == DOCKER_DEFAULT_CAPS
    assert caps["inheritable"] == [] and caps["ambient"] == []


def test_drop_all_then_add_one_gives_exactly_that_one() -> None:
    caps = _caps(_apply(cap_drop=["ALL"], cap_add=["NET_ADMIN"]))
    assert caps["bounding"] == caps["effective"] == ["CAP_NET_ADMIN"]


def test_capability_names_in_any_case_with_or_without_prefix() -> None:
    caps = _caps(_apply(cap_add=["sys_time", "Cap_Sys_Nice"], cap_drop=["cap_chown"]))
    assert "CAP_SYS_TIME" in caps["bounding"]
    assert "CAP_SYS_NICE" in caps["bounding"]
    assert "CAP_CHOWN" not in caps["bounding"]
    assert len(caps["bounding"]) == 15


def test_an_unknown_capability_is_refused_by_name() -> None:
    with pytest.raises(InvalidArgument, match="CAP_FLY"):
        _apply(cap_add=["CAP_FLY"])
    with pytest.raises(InvalidArgument, match="teleport"):
        _apply(cap_drop=["teleport"])


def test_add_all_minus_drops() -> None:
    caps = _caps(_apply(cap_add=["all"], cap_drop=["NET_RAW"]))
    assert "CAP_NET_RAW" not in caps["bounding"]
    assert "CAP_SYS_ADMIN" in caps["bounding"]


def test_privileged_has_every_capability_the_kernel_knows() -> None:
    spec = _apply(privileged=True)
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    status = Path("/proc/self/status").read_text()
    bounding = int(status.split("CapBnd:")[1].split()[0], 16)
    # Every capability up to cap_last_cap, less only what Servin itself lacks
    # (here CAP_SYS_RESOURCE), which no runtime could hand on.
    expected = {CAPABILITY_NAMES[bit] for bit in range(last + 1) if bounding >> bit & 1}
    assert set(_caps(spec)["bounding"]) == expected
    assert len(expected) >= last  # at most the one missing capability
    assert (CAPABILITY_NAMES[12], CAPABILITY_NAMES[21]) == (
        "CAP_NET_ADMIN",
        "CAP_SYS_ADMIN",
    )
    assert "CAP_SYS_ADMIN" in _caps(spec)["bounding"]

    linux = spec["linux"]
    assert "seccomp" not in linux
    assert "maskedPaths" not in linux and "readonlyPaths" not in linux
    assert linux["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    assert any(d["path"] == "/dev/null" for d in linux["devices"])


def test_defaults_mask_and_protect_proc_as_docker() -> None:
    linux = _apply()["linux"]
    assert "/proc/kcore" in linux["maskedPaths"]
    assert "/proc/keys" in linux["maskedPaths"]
    assert "/sys/firmware" in linux["maskedPaths"]
    assert set(linux["readonlyPaths"]) == {
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    }
    assert linux["seccomp"]["defaultAction"] == "SCMP_ACT_ERRNO"


def test_no_new_privileges_in_both_spellings() -> None:
    assert _apply()["process"]["noNewPrivileges"] is False
    for option in (
        "no-new-privileges",
        "no-new-privileges:true",
        "no-new-privileges=1",
    ):
        assert _apply(security_opt=[option])["process"]["noNewPrivileges"] is True
    off = _apply(security_opt=["no-new-privileges=false"])
    assert off["process"]["noNewPrivileges"] is False


def test_seccomp_unconfined_and_apparmor_accepted() -> None:
    spec = _apply(security_opt=["seccomp=unconfined", "apparmor=unconfined"])
    assert "seccomp" not in spec["linux"]
    assert "maskedPaths" in spec["linux"]


@pytest.mark.parametrize(
    "option", ["bogus=1", "no-new-privileges=maybe", "systempaths=open", "nonsense"]
)
def test_unknown_or_bad_security_options_are_refused(option: str) -> None:
    with pytest.raises(InvalidArgument, match="security option"):
        _apply(security_opt=[option])


def test_seccomp_profile_file_in_dockers_format(tmp_path: Path) -> None:
    profile = {
        "defaultAction": "SCMP_ACT_ALLOW",
        "archMap": [
            {"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
            {"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": []},
        ],
        "syscalls": [
            {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
            {
                "name": "chroot",
                "action": "SCMP_ACT_ERRNO",
                "excludes": {"caps": ["CAP_SYS_CHROOT"]},
            },
        ],
    }
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    seccomp = _apply(security_opt=[f"seccomp={path}"])["linux"]["seccomp"]
    assert seccomp["defaultAction"] == "SCMP_ACT_ALLOW"
    # chroot is excluded: the default capabilities include CAP_SYS_CHROOT.
    assert seccomp["syscalls"] == [
        {"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
    ]


def test_a_missing_or_broken_seccomp_profile_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"nowhere\.json"):
        _apply(security_opt=[f"seccomp={tmp_path}/nowhere.json"])
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(InvalidArgument, match=r"broken\.json"):
        _apply(security_opt=[f"seccomp={broken}"])


def test_read_only_root() -> None:
    assert _apply(read_only=True)["root"] == {"path": "rootfs", "readonly": True}
    assert _apply()["root"]["readonly"] is False


def test_default_device_rules_deny_then_allow_dockers_few() -> None:
    rules = _apply()["linux"]["resources"]["devices"]
    assert rules[0] == {"allow": False, "access": "rwm"}
    allowed = {(r["type"], r["major"], r["minor"]) for r in rules if r["allow"]}
    assert allowed == {
        ("c", 1, 5),
        ("c", 1, 3),
        ("c", 1, 9),
        ("c", 1, 8),
        ("c", 5, 0),
        ("c", 5, 1),
    }


def test_a_device_becomes_a_node_and_an_allow_rule() -> None:
    device = Device(host_path="/dev/full", container_path="/dev/f", permissions="r")
    linux = _apply(resources=Resources(devices=(device,)))["linux"]
    node = linux["devices"][0]
    assert (node["path"], node["type"], node["major"], node["minor"]) == (
        "/dev/f",
        "c",
        1,
        7,
    )
    assert linux["resources"]["devices"][-1] == {
        "allow": True,
        "type": "c",
        "major": 1,
        "minor": 7,
        "access": "r",
    }


def test_a_missing_host_device_is_refused_by_name() -> None:
    device = Device(host_path="/dev/nothing-here", container_path="/dev/x")
    with pytest.raises(InvalidArgument, match="/dev/nothing-here"):
        _apply(resources=Resources(devices=(device,)))


def test_a_regular_file_is_not_a_device(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.write_text("x")
    device = Device(host_path=str(plain), container_path="/dev/x")
    with pytest.raises(InvalidArgument, match="not a device"):
        _apply(resources=Resources(devices=(device,)))


def test_namespaced_sysctls_are_set() -> None:
    sysctls = {
        "kernel.shmmax": "1000",
        "kernel.msgmax": "2000",
        "fs.mqueue.msg_max": "20",
        "net.ipv4.ip_forward": "1",
    }
    linux = _apply(resources=Resources(sysctls=sysctls))["linux"]
    assert linux["sysctl"] == sysctls


@pytest.mark.parametrize("name", ["kernel.hostname", "vm.swappiness", "fs.file-max"])
def test_host_wide_sysctls_are_refused(name: str) -> None:
    with pytest.raises(InvalidArgument, match=name):
        _apply(resources=Resources(sysctls={name: "1"}))


def test_net_sysctls_need_the_containers_own_network() -> None:
    with pytest.raises(InvalidArgument, match="network namespace"):
        _apply(
            host_network=True, resources=Resources(sysctls={"net.core.somaxconn": "1"})
        )
