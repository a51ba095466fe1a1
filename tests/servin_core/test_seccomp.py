"""The default seccomp profile, resolved for a machine and capabilities."""

from __future__ import annotations

import json
from typing import Any

import pytest

from servin_core.containers.capabilities import DEFAULT_CAPABILITIES
from servin_core.containers.seccomp import default_profile, load_profile, seccomp_spec
from servin_core.errors import InvalidArgument, Unavailable


def _spec(caps: list[str], machine: str = "x86_64") -> dict[str, Any]:
    return seccomp_spec(default_profile(), caps, machine=machine, kernel=(6, 1))


def _allowed(spec: dict[str, Any]) -> set[str]:
    """Names allowed with no argument condition."""
    return {
        name
        for rule in spec["syscalls"]
        if rule["action"] == "SCMP_ACT_ALLOW" and "args" not in rule
        for name in rule["names"]
    }


def _rules_for(spec: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return [rule for rule in spec["syscalls"] if name in rule["names"]]


def test_everything_else_fails_with_eperm() -> None:
    spec = _spec(list(DEFAULT_CAPABILITIES))
    assert spec["defaultAction"] == "SCMP_ACT_ERRNO"
    assert spec["defaultErrnoRet"] == 1


def test_the_common_syscalls_are_allowed_and_the_dangerous_are_not() -> None:
    allowed = _allowed(_spec(list(DEFAULT_CAPABILITIES)))
    assert {"read", "write", "openat", "execve", "futex", "exit_group"} <= allowed
    assert {"chroot", "arch_prctl", "ptrace"} <= allowed
    closed = {"unshare", "mount", "setns", "reboot", "init_module", "kexec_load"}
    assert not closed & allowed
    assert "bpf" not in allowed and "keyctl" not in allowed


def test_architectures_follow_the_machine() -> None:
    assert _spec([])["architectures"] == [
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32",
    ]
    arm = _spec([], machine="aarch64")
    assert arm["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    assert "set_tls" in _allowed(arm) and "arch_prctl" not in _allowed(arm)
    assert "set_tls" not in _allowed(_spec([]))


def test_an_unknown_machine_is_unavailable() -> None:
    with pytest.raises(Unavailable, match="sparc64"):
        _spec([], machine="sparc64")


def test_clone_without_sys_admin_only_without_namespace_flags() -> None:
    spec = _spec(list(DEFAULT_CAPABILITIES))
    clone = _rules_for(spec, "clone")
    assert clone == [
        {
            "names": ["clone"],
            "action": "SCMP_ACT_ALLOW",
            "args": [
                {
                    "index": 0,
                    "value": 0x7E020000,
                    "valueTwo": 0,
                    "op": "SCMP_CMP_MASKED_EQ",
                }
            ],
        }
    ]
    assert _rules_for(spec, "clone3") == [
        {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
    ]


def test_sys_admin_opens_clone_unshare_and_mount() -> None:
    spec = _spec([*DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"])
    allowed = _allowed(spec)
    assert {"clone", "clone3", "unshare", "mount", "setns"} <= allowed
    # The restricted clone rule and the clone3 ENOSYS rule are gone.
    assert all("args" not in rule for rule in _rules_for(spec, "clone"))
    assert all(
        rule["action"] == "SCMP_ACT_ALLOW" for rule in _rules_for(spec, "clone3")
    )


def test_capability_conditional_syscalls() -> None:
    without = _allowed(_spec([]))
    assert "chroot" not in without and "reboot" not in without
    assert "settimeofday" not in without
    with_caps = _allowed(_spec(["CAP_SYS_BOOT", "CAP_SYS_TIME", "CAP_SYS_PTRACE"]))
    assert {"reboot", "settimeofday", "clock_settime", "kcmp"} <= with_caps


def test_personality_is_limited_to_known_personas() -> None:
    rules = _rules_for(_spec([]), "personality")
    values = sorted(rule["args"][0]["value"] for rule in rules)
    assert values == [0, 8, 0x20000, 0x20008, 0xFFFFFFFF]
    assert all(rule["args"][0]["op"] == "SCMP_CMP_EQ" for rule in rules)


def test_ptrace_needs_kernel_4_8_unless_sys_ptrace() -> None:
    old = seccomp_spec(default_profile(), [], machine="x86_64", kernel=(4, 4))
    assert "ptrace" not in _allowed(old)
    assert "ptrace" in _allowed(_spec([]))


def test_a_docker_profile_with_architectures_and_min_kernel() -> None:
    text = json.dumps(
        {
            "defaultAction": "SCMP_ACT_ERRNO",
            "architectures": ["SCMP_ARCH_X86_64"],
            "syscalls": [
                {
                    "names": ["socket"],
                    "action": "SCMP_ACT_ALLOW",
                    "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}],
                },
                {
                    "names": ["newcall"],
                    "action": "SCMP_ACT_ALLOW",
                    "includes": {"minKernel": "7.2"},
                },
            ],
        }
    )
    spec = seccomp_spec(load_profile(text, "p"), [], machine="x86_64", kernel=(6, 1))
    assert spec["architectures"] == ["SCMP_ARCH_X86_64"]
    assert "defaultErrnoRet" not in spec
    assert spec["syscalls"] == [
        {
            "names": ["socket"],
            "action": "SCMP_ACT_ALLOW",
            "args": [{"index": 0, "value": 1, "valueTwo": 0, "op": "SCMP_CMP_EQ"}],
        }
    ]


@pytest.mark.parametrize(
    ("profile", "reason"),
    [
        ({"defaultAction": "SCMP_ACT_MAYBE"}, "defaultAction"),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"action": "SCMP_ACT_LOG"}],
            },
            "names no syscall",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["read"], "action": "SCMP_ACT_FOO"}],
            },
            "action",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [
                    {
                        "names": ["read"],
                        "action": "SCMP_ACT_ALLOW",
                        "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ABOUT"}],
                    }
                ],
            },
            "operator",
        ),
        (
            {
                "defaultAction": "SCMP_ACT_ALLOW",
                "architectures": ["SCMP_ARCH_X86"],
                "archMap": [{"architecture": "SCMP_ARCH_X86_64"}],
            },
            "exclude each other",
        ),
        ([1, 2], "not a JSON object"),
    ],
)
def test_bad_profiles_are_refused_with_the_reason(profile: Any, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        load_profile(json.dumps(profile), "custom.json")
