"""The container store: rows of the ``containers`` table.

Names are unique; a container resolves by full ID, name or unique ID prefix,
as docker resolves it. A container holds its image (``image_holds``), so the
image is not removed under it without force.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import sqlite3
from typing import Any

from servin_core.containers.model import (
    Container,
    State,
    config_from_json,
    config_to_json,
)
from servin_core.errors import AlreadyExists, InvalidArgument, NotFound
from servin_core.events import EventLog
from servin_core.state.db import Database

__all__ = ["ContainerStore", "check_name", "new_container_id"]

# Patterns, not compiled at import: re compiles and caches them on first use,
# and a run without --name looks nothing up.
_NAME = r"[a-zA-Z0-9][a-zA-Z0-9_.-]*"
_HEX = r"[0-9a-f]{1,64}"

# Fields that change as the container runs; update() accepts only these.
_MUTABLE = frozenset(
    {
        "state",
        "pid",
        "conmon_pid",
        "exit_code",
        "oom_killed",
        "started_at",
        "finished_at",
        "restart_count",
        "stopped_by_user",
        "error",
    }
)


def new_container_id() -> str:
    # What secrets.token_hex(32) returns, without importing secrets (with
    # hmac, base64 and random: about 2 ms of every run).
    return os.urandom(32).hex()


def check_name(name: str) -> str:
    name = name.removeprefix("/")
    if not re.fullmatch(_NAME, name):
        raise InvalidArgument(
            "container name", name, "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )
    return name


class ContainerStore:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    def add(self, conn: sqlite3.Connection, container: Container) -> None:
        """Insert ``container`` in the transaction ``conn``; the name must be free."""
        taken = conn.execute(
            "SELECT id FROM containers WHERE name = ?", (container.name,)
        ).fetchone()
        if taken is not None:
            raise AlreadyExists(
                "container name",
                container.name,
                f"already in use by container {taken[0][:12]}",
            )
        conn.execute(
            "INSERT INTO containers (id, name, image_id, image_name, created, config,"
            " lowers, runtime, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                container.id,
                container.name,
                container.image_id,
                container.image_name,
                container.created,
                config_to_json(container.config),
                json.dumps(list(container.lowers)),
                container.runtime,
                str(container.state),
            ),
        )
        conn.execute(
            "INSERT OR IGNORE INTO image_holds VALUES (?, 'container', ?)",
            (container.image_id, container.id),
        )
        self._events.record(
            conn,
            "container",
            "create",
            container.id,
            name=container.name,
            image=container.image_name,
        )

    def get(self, container_id: str) -> Container:
        row = self._db.query_one(
            "SELECT * FROM containers WHERE id = ?", (container_id,)
        )
        if row is None:
            raise NotFound("container", container_id, "No such container")
        return _from_row(row)

    def resolve(self, text: str) -> Container:
        """By full ID, then name, then unique ID prefix."""
        name = text.removeprefix("/")
        row = self._db.query_one(
            "SELECT * FROM containers WHERE id = ? OR name = ?"
            " ORDER BY id = ? DESC LIMIT 1",
            (text, name, text),
        )
        if row is not None:
            return _from_row(row)
        if re.fullmatch(_HEX, text):
            rows = self._db.query(
                "SELECT * FROM containers WHERE id LIKE ? LIMIT 2", (text + "%",)
            )
            if len(rows) == 1:
                return _from_row(rows[0])
            if len(rows) > 1:
                raise InvalidArgument("container", text, "ambiguous ID prefix")
        raise NotFound("container", text, "No such container")

    def list(self) -> builtins.list[Container]:
        rows = self._db.query("SELECT * FROM containers ORDER BY created DESC")
        return [_from_row(row) for row in rows]

    def states(self) -> builtins.list[tuple[str, State]]:
        """Every container's ID and state, without reading the rest of
        its row (its configuration is most of the cost of a listing)."""
        rows = self._db.query("SELECT id, state FROM containers")
        return [(row[0], State(row[1])) for row in rows]

    def update(
        self,
        container_id: str,
        *,
        event: str | None = None,
        event_attributes: dict[str, str] | None = None,
        **fields: Any,
    ) -> Container:
        """Change state fields of a container (names as in Container), and
        record ``event`` (``start``, ``die``...) in the same transaction."""
        unknown = set(fields) - _MUTABLE
        if unknown:
            raise ValueError(f"not mutable container fields: {sorted(unknown)}")
        values = [str(v) if isinstance(v, State) else v for v in fields.values()]
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._db.write() as conn:
            cursor = conn.execute(
                # Column names come from _MUTABLE above, never from input.
                f"UPDATE containers SET {assignments} WHERE id = ?",
                (*values, container_id),
            )
            if cursor.rowcount == 0:
                raise NotFound("container", container_id, "No such container")
            if event is not None:
                self._events.record(
                    conn, "container", event, container_id, **(event_attributes or {})
                )
        return self.get(container_id)

    def rename(self, container: Container, new_name: str) -> None:
        new_name = check_name(new_name)
        with self._db.write() as conn:
            taken = conn.execute(
                "SELECT id FROM containers WHERE name = ?", (new_name,)
            ).fetchone()
            if taken is not None:
                raise AlreadyExists(
                    "container name",
                    new_name,
                    f"already in use by container {taken[0][:12]}",
                )
            conn.execute(
                "UPDATE containers SET name = ? WHERE id = ?", (new_name, container.id)
            )
            self._events.record(
                conn,
                "container",
                "rename",
                container.id,
                name=new_name,
                oldName=container.name,
            )

    def delete(self, conn: sqlite3.Connection, container: Container) -> None:
        """Delete the row and the image hold in the transaction ``conn``."""
        conn.execute("DELETE FROM containers WHERE id = ?", (container.id,))
        conn.execute(
            "DELETE FROM image_holds WHERE holder_kind = 'container' AND holder_id = ?",
            (container.id,),
        )
        self._events.record(
            conn, "container", "destroy", container.id, name=container.name
        )

    def lowers_in_use(self) -> set[str]:
        """Snapshot chain IDs that some container's root file system stacks."""
        used: set[str] = set()
        for row in self._db.query("SELECT lowers FROM containers"):
            used.update(json.loads(row[0]))
        return used


def _from_row(row: sqlite3.Row) -> Container:
    return Container(
        id=row["id"],
        name=row["name"],
        image_id=row["image_id"],
        image_name=row["image_name"],
        created=row["created"],
        config=config_from_json(row["config"]),
        lowers=tuple(json.loads(row["lowers"])),
        runtime=row["runtime"],
        state=State(row["state"]),
        pid=row["pid"],
        conmon_pid=row["conmon_pid"],
        exit_code=row["exit_code"],
        oom_killed=bool(row["oom_killed"]),
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        restart_count=row["restart_count"],
        stopped_by_user=bool(row["stopped_by_user"]),
        error=row["error"],
    )
