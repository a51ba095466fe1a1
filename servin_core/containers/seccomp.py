"""Seccomp filters for containers, in the OCI spec's ``linux.seccomp`` form.

A profile (the built-in default, or a file in docker's profile format given
with ``--security-opt seccomp=PATH``) holds rules with conditions: on which
architecture, with which capabilities, from which kernel version a rule
applies. The OCI runtime understands none of those conditions, so they are
resolved here, for this machine and the container's capabilities, into a
plain list of syscall rules.
"""

from __future__ import annotations

import json
import os
from typing import Any

from servin_core._dataclass import dataclass, field
from servin_core.containers.seccomp_profile import ARCH_MAP, DEFAULT_RULES, Rule
from servin_core.errors import InvalidArgument, Unavailable

__all__ = ["Profile", "default_profile", "load_profile", "seccomp_spec"]

_ACTION_NAMES = "KILL KILL_PROCESS KILL_THREAD TRAP ERRNO TRACE ALLOW LOG NOTIFY"
_ACTIONS = frozenset("SCMP_ACT_" + a for a in _ACTION_NAMES.split())
_OP_NAMES = "NE LT LE EQ GE GT MASKED_EQ"
_OPS = frozenset("SCMP_CMP_" + o for o in _OP_NAMES.split())
# os.uname().machine -> (seccomp's name, Go's name used in profile conditions)
_MACHINES = {
    "x86_64": ("SCMP_ARCH_X86_64", "amd64"),
    "aarch64": ("SCMP_ARCH_AARCH64", "arm64"),
}


@dataclass(frozen=True, slots=True, eq=False)
class Profile:
    """A seccomp profile before its conditions are resolved."""

    rules: tuple[Rule, ...]
    default_action: str = "SCMP_ACT_ERRNO"
    default_errno: int | None = 1  # EPERM
    architectures: tuple[str, ...] = ()
    arch_map: dict[str, tuple[str, ...]] = field(default_factory=dict)
    flags: tuple[str, ...] = ()


def default_profile() -> Profile:
    """The built-in profile, equivalent to docker's default."""
    return Profile(rules=DEFAULT_RULES, arch_map=dict(ARCH_MAP))


def seccomp_spec(
    profile: Profile,
    capabilities: list[str],
    *,
    machine: str | None = None,
    kernel: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """``profile`` resolved for a container holding ``capabilities`` (its
    bounding set) on ``machine`` (default: this one) running ``kernel``."""
    # What platform.machine() says, without importing platform (1-2 ms).
    machine = machine or os.uname().machine
    kernel = kernel or _kernel_version()
    if machine not in _MACHINES:
        raise Unavailable("seccomp", machine, "no seccomp support for this machine")
    native, goarch = _MACHINES[machine]
    held = set(capabilities)

    spec: dict[str, Any] = {"defaultAction": profile.default_action}
    if profile.default_errno is not None:
        spec["defaultErrnoRet"] = profile.default_errno
    if profile.arch_map:
        # A map without this machine leaves the runtime's native default.
        subs = profile.arch_map.get(native)
        if subs is not None:
            spec["architectures"] = [native, *subs]
    elif profile.architectures:
        spec["architectures"] = list(profile.architectures)
    if profile.flags:
        spec["flags"] = list(profile.flags)

    syscalls = []
    for rule in profile.rules:
        if not _applies(rule, goarch, held, kernel):
            continue
        entry: dict[str, Any] = {"names": list(rule.names), "action": rule.action}
        if rule.errno is not None:
            entry["errnoRet"] = rule.errno
        if rule.args:
            entry["args"] = [dict(a) for a in rule.args]
        syscalls.append(entry)
    spec["syscalls"] = syscalls
    return spec


def _applies(rule: Rule, goarch: str, held: set[str], kernel: tuple[int, int]) -> bool:
    if goarch in rule.not_arches or held.intersection(rule.not_caps):
        return False
    if rule.arches and goarch not in rule.arches:
        return False
    if not held.issuperset(rule.caps):
        return False
    return rule.min_kernel is None or kernel >= rule.min_kernel


def _kernel_version() -> tuple[int, int]:
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


def load_profile(text: str, source: str) -> Profile:
    """A profile in docker's JSON format; ``source`` names it in errors."""

    def bad(reason: str) -> InvalidArgument:
        return InvalidArgument("seccomp profile", source, reason)

    try:
        data = json.loads(text)
    except ValueError as exc:
        raise bad(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise bad("not a JSON object")

    default_action = data.get("defaultAction") or ""
    if default_action not in _ACTIONS:
        raise bad(f"unknown defaultAction {default_action!r}")
    if data.get("architectures") and data.get("archMap"):
        raise bad("'architectures' and 'archMap' exclude each other")

    arch_map: dict[str, tuple[str, ...]] = {}
    for entry in data.get("archMap") or []:
        arch_map[str(entry["architecture"])] = tuple(
            entry.get("subArchitectures") or ()
        )

    rules = [_load_rule(item, bad) for item in data.get("syscalls") or []]
    return Profile(
        rules=tuple(rules),
        default_action=default_action,
        default_errno=data.get("defaultErrnoRet"),
        architectures=tuple(data.get("architectures") or ()),
        arch_map=arch_map,
        flags=tuple(data.get("flags") or ()),
    )


def _load_rule(item: Any, bad: Any) -> Rule:
    if not isinstance(item, dict):
        raise bad("a syscall rule is not an object")
    names = list(item.get("names") or [])
    if item.get("name"):
        if names:
            raise bad("a rule has both 'name' and 'names'")
        names = [item["name"]]
    if not names:
        raise bad("a syscall rule names no syscall")
    if item.get("action") not in _ACTIONS:
        raise bad(f"unknown action {item.get('action')!r} for {names[0]}")

    args = []
    for arg in item.get("args") or []:
        if arg.get("op") not in _OPS:
            raise bad(f"unknown operator {arg.get('op')!r} for {names[0]}")
        args.append(
            {
                "index": int(arg.get("index", 0)),
                "value": int(arg.get("value", 0)),
                "valueTwo": int(arg.get("valueTwo", 0)),
                "op": arg["op"],
            }
        )

    includes = item.get("includes") or {}
    excludes = item.get("excludes") or {}
    if excludes.get("minKernel"):
        raise bad("excludes.minKernel is not supported")
    min_kernel = None
    if includes.get("minKernel"):
        try:
            major, minor = str(includes["minKernel"]).split(".")[:2]
            min_kernel = (int(major), int(minor))
        except ValueError:
            raise bad(f"bad minKernel {includes['minKernel']!r}") from None

    return Rule(
        names=tuple(names),
        action=item["action"],
        errno=item.get("errnoRet"),
        args=tuple(args),
        arches=tuple(includes.get("arches") or ()),
        caps=tuple(includes.get("caps") or ()),
        min_kernel=min_kernel,
        not_arches=tuple(excludes.get("arches") or ()),
        not_caps=tuple(excludes.get("caps") or ()),
    )
