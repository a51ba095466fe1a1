"""Sharing namespaces another holder keeps: a CRI pod's pinned network,
IPC and UTS namespaces, or the host's own.

``ContainerConfig.namespaces`` maps an OCI namespace type to the file of a
namespace to join, or to ``host``; types it does not name stay as the spec
made them. A container in the host's UTS namespace gets no hostname: the
runtime refuses to set one there.
"""

from __future__ import annotations

from typing import Any

from servin_core.containers.model import ContainerConfig
from servin_core.errors import InvalidArgument

__all__ = ["HOST", "SHAREABLE", "apply_namespaces"]

HOST = "host"
SHAREABLE = frozenset({"network", "ipc", "uts", "pid"})


def apply_namespaces(spec: dict[str, Any], config: ContainerConfig, name: str) -> None:
    """Rewrite ``spec``'s namespaces as ``config.namespaces`` asks."""
    if not config.namespaces:
        return
    for kind, where in config.namespaces.items():
        if kind not in SHAREABLE or not (where == HOST or where.startswith("/")):
            raise InvalidArgument(
                "container", name, f"cannot share the {kind} namespace {where!r}"
            )

    linux = spec["linux"]
    kept = []
    for entry in linux["namespaces"]:
        where = config.namespaces.get(entry["type"], "")
        if where == HOST:
            continue
        kept.append({"type": entry["type"], "path": where} if where else entry)
    linux["namespaces"] = kept

    if config.namespaces.get("uts") == HOST:
        spec.pop("hostname", None)
