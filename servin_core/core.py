"""The core: every store of one Servin instance, opened together.

Front ends (the CLI, the TUI, the headless daemon) open one Core and pass it
to the operations in the other modules (``images.pull.pull(core, ...)``).
Opening it also tidies what killed processes left: partial blobs, partial
snapshots and the stale leases that protected them.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.config import Config
from servin_core.containers.store import ContainerStore
from servin_core.events import EventLog
from servin_core.images.content import ContentStore
from servin_core.images.snapshots import Snapshotter
from servin_core.images.store import ImageStore
from servin_core.state.db import Database
from servin_core.state.leases import Leases

if TYPE_CHECKING:
    from servin_core.network.store import NetworkStore

__all__ = ["Core"]


class Core:
    def __init__(self, config: Config) -> None:
        self.config = config
        data = config.data_dir
        data.mkdir(parents=True, exist_ok=True, mode=0o700)
        config.run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.db = Database(data / "servin.db")
        self.events = EventLog(self.db)
        self.content = ContentStore(data / "content")
        self.snapshots = Snapshotter(data / "snapshots", self.db)
        self.images = ImageStore(self.db, self.events)
        self.containers = ContainerStore(self.db, self.events)
        self.leases = Leases(self.db)
        self.leases.collect = self._collect

    @cached_property
    def networks(self) -> NetworkStore:
        # Made on first use: a run without networks (--network none) and
        # commands without containers do not import the network's modules.
        from servin_core.network.store import NetworkStore

        return NetworkStore(self.db, self.events)

    @classmethod
    def open(cls, config: Config) -> Core:
        core = cls(config)
        core.tidy()
        return core

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Core:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def tidy(self) -> None:
        """Remove what processes that died mid-way left behind."""
        self.content.remove_stale_ingests()
        self.snapshots.remove_stale()
        stale = self.leases.release_stale()
        if stale:
            self._collect(stale)
        # Imported here: the lifecycle's modules are not needed by commands
        # that have no container.
        if (
            self.db.query_one("SELECT 1 FROM containers LIMIT 1")
            or (self.config.data_dir / "containers").exists()
        ):
            from servin_core.containers.reconcile import reconcile_all
            from servin_core.containers.remove import remove_orphans

            reconcile_all(self)
            remove_orphans(self)
        if self._networks_left_behind():
            from servin_core.network.tidy import tidy_networks

            tidy_networks(self)

    def _networks_left_behind(self) -> bool:
        """Whether tidy_networks (network/tidy.py) has anything to do: a
        pinned namespace or CNI cache entry of a container that is not
        running, or the masquerade marker of a network whose row is gone.
        Three listings and a query: the network's modules (about 6 ms to
        import) are imported on every command otherwise, by anyone who has
        ever run a container on a network."""
        networks = self.config.data_dir / "networks"
        held = _names(self.config.run_dir / "netns") | _names(networks / "cache")
        if held:
            active = self.db.query(
                "SELECT id FROM containers"
                " WHERE state IN ('running', 'paused', 'restarting')"
            )
            if held - {row[0] for row in active}:
                return True
        markers = {n for n in _names(networks / "nat") if not n.endswith(".tmp")}
        if not markers:
            return False
        rows = self.db.query("SELECT id FROM networks")
        return bool(markers - {row[0] for row in rows})

    def _collect(self, resources: list[tuple[str, str]]) -> None:
        # Imported here: garbage collection needs the image store's queries,
        # which import nothing of the core.
        from servin_core.images.prune import collect

        removed = collect(
            self,
            blobs={ident for kind, ident in resources if kind == "blob"},
            snapshots={ident for kind, ident in resources if kind == "snapshot"},
        )
        if removed:
            log.images.info("collected %d bytes of unreferenced content", removed)


def _names(directory: Path) -> set[str]:
    try:
        return set(os.listdir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return set()
