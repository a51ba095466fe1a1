"""What confines a container: capabilities, seccomp, no-new-privileges,
masked and read-only /proc paths, the read-only root, devices and sysctls.

:func:`apply_security` edits an OCI spec that spec.py has built (process,
root, mounts, namespaces) and adds docker's confinement to it, as the
container's configuration asks. ``--privileged`` lifts it all: every
capability, no seccomp filter, nothing masked, every host device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from servin_core import log
from servin_core.containers.capabilities import container_capabilities
from servin_core.containers.devices import (
    default_device_rules,
    device_entries,
    host_devices,
)
from servin_core.containers.model import ContainerConfig
from servin_core.containers.seccomp import (
    Profile,
    default_profile,
    load_profile,
    seccomp_spec,
)
from servin_core.errors import InvalidArgument

__all__ = [
    "MASKED_PATHS",
    "READONLY_PATHS",
    "SecurityOptions",
    "apply_security",
    "check_sysctl",
    "parse_security_opts",
]

MASKED_PATHS: tuple[str, ...] = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
"""Hidden from the container: host details or kernel interfaces it must not
read (an empty file or directory is mounted over each)."""

READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)
"""Host-wide kernel knobs: readable, but not writable from the container."""

_IPC_SYSCTLS = frozenset(
    {
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    }
)
_TRUE = frozenset({"1", "t", "true"})
_FALSE = frozenset({"0", "f", "false"})


class SecurityOptions:
    """What ``--security-opt`` asked for."""

    def __init__(self) -> None:
        self.no_new_privileges = False
        self.seccomp: Profile | None = default_profile()
        """None is unconfined."""
        self.system_paths_unconfined = False


def parse_security_opts(options: list[str]) -> SecurityOptions:
    """docker's ``--security-opt`` values. ``KEY=VALUE`` or the older
    ``KEY:VALUE``. AppArmor and SELinux labels are accepted and ignored: neither
    is enabled on the hosts Servin runs on, and docker ignores them there too.
    ``seccomp`` takes ``unconfined``, ``builtin``, a profile file's path, or a
    profile's JSON text (what docker's client sends to its engine)."""
    result = SecurityOptions()
    for option in options:
        if option == "no-new-privileges":
            result.no_new_privileges = True
            continue
        key, sep, value = option.partition("=")
        if not sep:
            key, sep, value = option.partition(":")
        if not sep:
            raise InvalidArgument("security option", option, "expected KEY=VALUE")

        if key == "no-new-privileges":
            if value.lower() not in _TRUE | _FALSE:
                raise InvalidArgument(
                    "security option", option, "no-new-privileges takes true or false"
                )
            result.no_new_privileges = value.lower() in _TRUE
        elif key == "seccomp":
            result.seccomp = _seccomp_option(value)
        elif key == "systempaths":
            if value != "unconfined":
                raise InvalidArgument(
                    "security option", option, "systempaths takes only unconfined"
                )
            result.system_paths_unconfined = True
        elif key in ("apparmor", "label"):
            # Accepted as docker accepts them on hosts without AppArmor or
            # SELinux: there is nothing to apply them to.
            log.containers.info("security option %s ignored on this host", option)
        else:
            raise InvalidArgument("security option", option, "unknown option")
    return result


def _seccomp_option(value: str) -> Profile | None:
    if value == "unconfined":
        return None
    if value == "builtin":
        return default_profile()
    if value.lstrip().startswith("{"):
        return load_profile(value, "(inline)")
    try:
        text = Path(value).read_text()
    except OSError as exc:
        raise InvalidArgument(
            "seccomp profile", value, f"cannot read it: {exc.strerror}"
        ) from None
    return load_profile(text, value)


def check_sysctl(name: str, *, own_network: bool, own_ipc: bool = True) -> None:
    """Refuse a sysctl that is not namespaced: setting it in the container
    would change the host. The net.* ones need the container's own network
    namespace; the IPC ones its own IPC namespace."""
    if name in _IPC_SYSCTLS or name.startswith("fs.mqueue."):
        if not own_ipc:
            raise InvalidArgument(
                "sysctl", name, "the container shares the host's IPC namespace"
            )
        return
    if name.startswith("net."):
        if not own_network:
            raise InvalidArgument(
                "sysctl", name, "the container shares the host's network namespace"
            )
        return
    raise InvalidArgument("sysctl", name, "not namespaced: it would change the host")


def _own_namespace(spec: dict[str, Any], kind: str) -> bool:
    """Whether the spec gives the container a new namespace of ``kind``."""
    for entry in spec.get("linux", {}).get("namespaces", []):
        if entry.get("type") == kind:
            return not entry.get("path")
    return False


def apply_security(spec: dict[str, Any], config: ContainerConfig) -> None:
    """Add docker's confinement, as ``config`` adjusts it, to ``spec``."""
    options = parse_security_opts(config.security_opt)
    process = spec.setdefault("process", {})
    linux = spec.setdefault("linux", {})
    resources = linux.setdefault("resources", {})

    caps = container_capabilities(
        config.cap_add, config.cap_drop, privileged=config.privileged
    )
    process["capabilities"] = {
        "bounding": list(caps),
        "effective": list(caps),
        "permitted": list(caps),
        "inheritable": [],
        "ambient": [],
    }
    process["noNewPrivileges"] = options.no_new_privileges

    linux.pop("seccomp", None)
    if options.seccomp is not None and not config.privileged:
        linux["seccomp"] = seccomp_spec(options.seccomp, caps)

    if config.privileged or options.system_paths_unconfined:
        linux.pop("maskedPaths", None)
        linux.pop("readonlyPaths", None)
    else:
        masked, readonly = config.masked_paths, config.readonly_paths
        linux["maskedPaths"] = list(MASKED_PATHS if masked is None else masked)
        linux["readonlyPaths"] = list(READONLY_PATHS if readonly is None else readonly)

    spec.setdefault("root", {})["readonly"] = config.read_only

    nodes: list[dict[str, Any]] = []
    if config.privileged:
        nodes = host_devices()
        rules: list[dict[str, Any]] = [{"allow": True, "access": "rwm"}]
    else:
        rules = default_device_rules()
    for device in config.resources.devices:
        more_nodes, more_rules = device_entries(device)
        nodes = [n for n in nodes if n["path"] not in {m["path"] for m in more_nodes}]
        nodes += more_nodes
        rules += more_rules
    linux["devices"] = nodes
    resources["devices"] = rules

    own_network = _own_namespace(spec, "network")
    own_ipc = _own_namespace(spec, "ipc")
    for name in config.resources.sysctls:
        check_sysctl(name, own_network=own_network, own_ipc=own_ipc)
    if config.resources.sysctls:
        linux["sysctl"] = dict(config.resources.sysctls)
