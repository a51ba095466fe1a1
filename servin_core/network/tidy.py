"""Collecting what a killed Servin process left of a container's networks.

A start killed after its namespace was pinned, or a removal killed after
the row went, leaves a pin under ``run_dir/netns``, CNI cache entries and
with them a veth, a lease and firewall rules. The cache says exactly what
to DEL; the pin goes after. A container that runs, or whose lock another
process holds (it is being started or removed), is left alone. Leases no
cache entry explains any more (a DEL that failed) are removed last. The
masquerade rule of a network whose row is gone is removed first.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.network.attach import leave_networks
from servin_core.network.cni_cache import cache_root
from servin_core.network.conflist import ipam_dir
from servin_core.network.masquerade import tidy_masquerades
from servin_core.state.locks import forget_lock, try_object_lock

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["tidy_networks"]

_ACTIVE = ("running", "paused", "restarting")


def _names(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except FileNotFoundError:
        return []


def tidy_networks(core: Core) -> int:
    """Undo the networks of containers that no longer run; how many."""
    tidy_masquerades(core)
    candidates = set(_names(str(cache_root(core.config.data_dir))))
    candidates |= set(_names(str(core.config.run_dir / "netns")))
    if not candidates:
        return 0
    active = {
        row[0]
        for row in core.db.query("SELECT id, state FROM containers")
        if row[1] in _ACTIVE
    }
    collected = 0
    for container_id in sorted(candidates - active):
        with try_object_lock(core.config.run_dir, "container", container_id) as ok:
            if not ok:
                continue  # being started or removed by its holder
            row = core.db.query_one(
                "SELECT state FROM containers WHERE id = ?", (container_id,)
            )
            if row is not None and row[0] in _ACTIVE:
                continue
            if row is None:
                forget_lock(core.config.run_dir, "container", container_id)
            if leave_networks(core, container_id):
                collected += 1
                log.for_object(log.network, "container", container_id).info(
                    "collected the networks of an interrupted run"
                )
    if collected:
        # A CRI pod on the default network holds its lease under its own ID.
        pods = {row[0] for row in core.db.query("SELECT id FROM pods")}
        _collect_leases(core, active | pods)
    return collected


def _collect_leases(core: Core, active: set[str]) -> None:
    """host-local's lease files (``ipam/NETWORK/IP``: container ID, then the
    interface) whose container no longer runs."""
    root = ipam_dir(core.config.data_dir)
    for network in _names(str(root)):
        directory = root / network
        for name in _names(str(directory)):
            if name.startswith("last_reserved_ip") or name == "lock":
                continue
            path = directory / name
            with contextlib.suppress(OSError):
                owner = path.read_text().split()[0] if path.stat().st_size else ""
                if owner and owner not in active:
                    path.unlink()
