"""Which Linux capabilities a container's process holds.

docker grants a fixed set of 14 capabilities; ``--cap-add`` and ``--cap-drop``
adjust it (drops first, then adds, with ``ALL`` on either side), and
``--privileged`` grants every capability the kernel knows. The result goes in
the bounding, effective and permitted sets; inheritable and ambient stay
empty, as in docker 23 and later, so that an exec'd file's capabilities are
not widened by the inheritable set.

A capability the caller itself does not hold cannot be given to the container:
the OCI runtime's ``capset`` would fail with a message naming nothing useful.
Here ``ALL`` and ``--privileged`` quietly skip such capabilities, as podman
does, and naming one explicitly is refused up front.
"""

from __future__ import annotations

from pathlib import Path

from servin_core.errors import InvalidArgument

__all__ = [
    "CAPABILITY_NAMES",
    "DEFAULT_CAPABILITIES",
    "available_capabilities",
    "container_capabilities",
    "normalize_capability",
]

# The kernel's numbering (include/uapi/linux/capability.h): index is the bit.
_KERNEL_ORDER = (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID "
    "SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW "
    "IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT "
    "SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD "
    "LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG "
    "WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE"
)
CAPABILITY_NAMES: tuple[str, ...] = tuple("CAP_" + n for n in _KERNEL_ORDER.split())

DEFAULT_CAPABILITIES: tuple[str, ...] = (
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
)
"""docker's default set, in docker's order."""

_CAP_LAST_CAP = Path("/proc/sys/kernel/cap_last_cap")
_STATUS = Path("/proc/self/status")


def normalize_capability(name: str) -> str:
    """``net_admin``, ``NET_ADMIN`` and ``cap_net_admin`` all become
    ``CAP_NET_ADMIN``; ``all`` becomes ``ALL``. Unknown names are refused."""
    upper = name.strip().upper()
    if upper == "ALL":
        return "ALL"
    full = upper if upper.startswith("CAP_") else "CAP_" + upper
    if full not in CAPABILITY_NAMES:
        raise InvalidArgument("capability", name, "unknown capability")
    return full


def available_capabilities() -> list[str]:
    """Every capability the kernel knows that this process may hand on: those
    up to ``cap_last_cap`` in this process's bounding set."""
    last = int(_CAP_LAST_CAP.read_text())
    bounding = 0
    for line in _STATUS.read_text().splitlines():
        if line.startswith("CapBnd:"):
            bounding = int(line.split()[1], 16)
    return [
        name
        for bit, name in enumerate(CAPABILITY_NAMES[: last + 1])
        if bounding >> bit & 1
    ]


def container_capabilities(
    cap_add: list[str], cap_drop: list[str], *, privileged: bool
) -> list[str]:
    """The capabilities the container's process gets, docker's way: drops
    are applied to the default set, then adds; ``ALL`` among the adds means
    every capability but the dropped ones; ``--privileged`` means every one."""
    adds = [normalize_capability(name) for name in cap_add]
    drops = [normalize_capability(name) for name in cap_drop]
    available = available_capabilities()
    if privileged:
        return available
    if "ALL" in adds:
        return [c for c in available if c not in drops]

    for name, given in zip(adds, cap_add, strict=True):
        if name not in available:
            raise InvalidArgument(
                "capability",
                given,
                "Servin itself does not hold it, so cannot grant it",
            )

    if "ALL" in drops:
        chosen: list[str] = []
    else:
        chosen = [c for c in DEFAULT_CAPABILITIES if c not in drops]
    chosen += [c for c in adds if c not in chosen]
    return chosen
