"""Leases: content written by an operation in progress, not yet referenced.

A pull writes blobs and snapshots before the image row that references them
exists. A lease, held by the writing process, keeps garbage collection away
from them meanwhile. If the operation fails, what only its lease protected is
removed at once; if the process dies, its lease goes stale and the next
Servin process collects the same content.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from servin_core import _process, log
from servin_core.state.db import Database

__all__ = ["Lease", "Leases"]


class Lease:
    """One operation's claim on content it is writing."""

    def __init__(self, db: Database, lease_id: str) -> None:
        self._db = db
        self.id = lease_id

    def add(self, kind: str, ident: str) -> None:
        """Protect ``ident`` (a blob digest or snapshot chain ID); call it
        before writing the content, so that no moment leaves it unprotected."""
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO lease_resources (lease_id, kind, ident)"
                " VALUES (?, ?, ?)",
                (self.id, kind, ident),
            )

    def resources(self) -> list[tuple[str, str]]:
        rows = self._db.query(
            "SELECT kind, ident FROM lease_resources WHERE lease_id = ?", (self.id,)
        )
        return [(row["kind"], row["ident"]) for row in rows]


class Leases:
    """Creates leases and finds the stale ones of dead processes."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.collect: Callable[[list[tuple[str, str]]], None] = lambda resources: None
        """Set by the core: removes those of ``resources`` nothing references."""

    @contextmanager
    def acquire(self) -> Iterator[Lease]:
        lease_id = os.urandom(8).hex()
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO leases (id, owner, created) VALUES (?, ?, ?)",
                (lease_id, _process.own_token(), time.time()),
            )
        lease = Lease(self._db, lease_id)
        failed = True
        try:
            yield lease
            failed = False
        finally:
            resources = lease.resources() if failed else []
            self._release(lease_id)
            if resources:
                log.state.debug(
                    "lease %s failed: collecting %d resources", lease_id, len(resources)
                )
                self.collect(resources)

    def _release(self, lease_id: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM leases WHERE id = ?", (lease_id,))

    def release_stale(self) -> list[tuple[str, str]]:
        """Drop the leases of dead processes; returns what they protected."""
        stale = [
            row["id"]
            for row in self._db.query("SELECT id, owner FROM leases")
            if not _process.is_alive(row["owner"])
        ]
        resources: list[tuple[str, str]] = []
        for lease_id in stale:
            resources += Lease(self._db, lease_id).resources()
            self._release(lease_id)
        if stale:
            log.state.info("released %d stale leases", len(stale))
        return resources

    def protected(self, kind: str) -> set[str]:
        """Everything of ``kind`` that some live lease protects."""
        rows = self._db.query(
            "SELECT r.ident, l.owner FROM lease_resources r"
            " JOIN leases l ON l.id = r.lease_id WHERE r.kind = ?",
            (kind,),
        )
        return {row["ident"] for row in rows if _process.is_alive(row["owner"])}
