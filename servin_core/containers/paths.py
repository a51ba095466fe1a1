"""Where a container's files live.

Two places, with two lifetimes. Under the data directory, what must survive
a reboot: the writable layer (``upper``, ``work``), the mount point of the
root file system, the runtime spec, the generated /etc files and the log.
Under the run directory, what describes processes of this boot only: the
files conmon writes (exit code, OOM mark, PIDs) and the OCI runtime's state.
A reboot empties the run directory, and with it every trace of processes
that no longer exist.
"""

from __future__ import annotations

from pathlib import Path

from servin_core._dataclass import dataclass
from servin_core.config import Config

__all__ = ["ContainerPaths", "cgroup_path"]


def cgroup_path(container_id: str, parent: str | None = None) -> str:
    """The container's cgroup, relative to each hierarchy's root (as docker's
    ``/docker/ID``): a fixed place, so any Servin process can find it; under
    ``parent`` when the container has one (a CRI pod's, from kubelet)."""
    if parent:
        return f"{parent.rstrip('/')}/{container_id}"
    return f"/servin/{container_id}"


@dataclass(frozen=True, eq=False)
class ContainerPaths:
    """Where a container's files live: persistent data and run state."""

    container_id: str
    data: Path
    """data_dir/containers/ID"""
    run: Path
    """run_dir/containers/ID"""

    @classmethod
    def of(cls, config: Config, container_id: str) -> ContainerPaths:
        return cls(
            container_id,
            config.data_dir / "containers" / container_id,
            config.run_dir / "containers" / container_id,
        )

    @property
    def upper(self) -> Path:
        return self.data / "upper"

    @property
    def work(self) -> Path:
        return self.data / "work"

    @property
    def rootfs(self) -> Path:
        """The overlay mount point, and the bundle's root."""
        return self.data / "rootfs"

    @property
    def bundle(self) -> Path:
        return self.data

    @property
    def spec(self) -> Path:
        return self.data / "config.json"

    @property
    def log(self) -> Path:
        return self.data / "ctr.log"

    @property
    def exit_dir(self) -> Path:
        return self.run / "exits"

    @property
    def exit_file(self) -> Path:
        """Written by conmon when the container's process ends: its status."""
        return self.exit_dir / self.container_id

    @property
    def persist_dir(self) -> Path:
        """conmon's ``-0`` directory: an ``oom`` file appears after an OOM kill."""
        return self.run / "persist"

    @property
    def oom_file(self) -> Path:
        return self.persist_dir / "oom"

    @property
    def conmon_pidfile(self) -> Path:
        return self.run / "conmon.pid"

    @property
    def pidfile(self) -> Path:
        return self.run / "pid"
