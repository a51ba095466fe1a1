"""The volume store: rows of the ``volumes`` and ``container_volumes`` tables.

A ``container_volumes`` row says that a container mounts a volume at a
target; it goes with the container's row (``ON DELETE CASCADE``). Whether a
volume is in use, and by whom, is therefore a query, the same in every
process, with no reference count to drift.
"""

from __future__ import annotations

import builtins
import json
import sqlite3
from typing import Any

from servin_core._dataclass import dataclass
from servin_core.errors import AlreadyExists, NotFound
from servin_core.events import EventLog
from servin_core.state.db import Database
from servin_core.volumes.model import Volume

__all__ = ["Binding", "VolumeStore"]


@dataclass(frozen=True, slots=True)
class Binding:
    """One volume mounted by one container."""

    container_id: str
    volume: str
    target: str
    copy_up: bool
    """Whether the next start fills the volume from the image if it is empty."""


class VolumeStore:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    def add(self, conn: sqlite3.Connection, volume: Volume) -> None:
        """Insert ``volume`` in the transaction ``conn``; the name must be free."""
        if conn.execute(
            "SELECT 1 FROM volumes WHERE name = ?", (volume.name,)
        ).fetchone():
            raise AlreadyExists("volume", volume.name, "a volume of that name exists")
        conn.execute(
            "INSERT INTO volumes (name, driver, labels, options, anonymous, created)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                volume.name,
                volume.driver,
                json.dumps(volume.labels),
                json.dumps(volume.options),
                int(volume.anonymous),
                volume.created,
            ),
        )
        self._events.record(conn, "volume", "create", volume.name, driver=volume.driver)

    def exists(self, conn: sqlite3.Connection, name: str) -> bool:
        return (
            conn.execute("SELECT 1 FROM volumes WHERE name = ?", (name,)).fetchone()
            is not None
        )

    def get(self, name: str) -> Volume:
        row = self._db.query_one("SELECT * FROM volumes WHERE name = ?", (name,))
        if row is None:
            raise NotFound("volume", name, "no such volume")
        return _volume(row)

    def list(self) -> builtins.list[Volume]:
        return [
            _volume(row)
            for row in self._db.query("SELECT * FROM volumes ORDER BY name")
        ]

    def delete(self, conn: sqlite3.Connection, name: str) -> None:
        conn.execute("DELETE FROM volumes WHERE name = ?", (name,))
        self._events.record(conn, "volume", "destroy", name)

    def users(
        self, name: str, conn: sqlite3.Connection | None = None
    ) -> builtins.list[tuple[str, str]]:
        """(ID, name) of every container that mounts volume ``name``."""
        sql = (
            "SELECT DISTINCT c.id, c.name FROM container_volumes v"
            " JOIN containers c ON c.id = v.container_id WHERE v.volume = ?"
            " ORDER BY c.name"
        )
        rows = (
            conn.execute(sql, (name,)).fetchall()
            if conn is not None
            else self._db.query(sql, (name,))
        )
        return [(row[0], row[1]) for row in rows]

    def used(self) -> set[str]:
        """Names of every volume some container mounts."""
        return {
            row[0]
            for row in self._db.query("SELECT DISTINCT volume FROM container_volumes")
        }

    def bind(self, conn: sqlite3.Connection, binding: Binding) -> None:
        conn.execute(
            "INSERT INTO container_volumes (container_id, volume, target, copy_up)"
            " VALUES (?, ?, ?, ?)",
            (
                binding.container_id,
                binding.volume,
                binding.target,
                int(binding.copy_up),
            ),
        )

    def bindings(self, container_id: str) -> builtins.list[Binding]:
        """The container's volumes, in no particular order."""
        rows = self._db.query(
            "SELECT container_id, volume, target, copy_up FROM container_volumes"
            " WHERE container_id = ?",
            (container_id,),
        )
        return [Binding(r[0], r[1], r[2], bool(r[3])) for r in rows]

    def mounted(self, container_id: str, mounts: builtins.list[dict[str, str]]) -> None:
        """Record docker's ``volume mount`` events of a start: each of
        ``mounts`` has the volume's ``name``, ``destination``,
        ``read/write`` and ``propagation``."""
        with self._db.write() as conn:
            for mount in mounts:
                attributes = {k: v for k, v in mount.items() if k != "name"}
                self._events.record(
                    conn, "volume", "mount", mount["name"], container=container_id,
                    driver="local", **attributes,
                )  # fmt: skip

    def copied(self, container_id: str, target: str) -> None:
        """Record that the volume at ``target`` was filled (or found full)."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE container_volumes SET copy_up = 0"
                " WHERE container_id = ? AND target = ?",
                (container_id, target),
            )


def _volume(row: Any) -> Volume:
    return Volume(
        name=row["name"],
        created=row["created"],
        driver=row["driver"],
        labels=json.loads(row["labels"]),
        options=json.loads(row["options"]),
        anonymous=bool(row["anonymous"]),
    )
