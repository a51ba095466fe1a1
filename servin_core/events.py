"""Events: what happened to which object, visible to every Servin process.

Each event is a row of the ``events`` table, written in the same transaction
as the change it reports, so a reader never sees one without the other. Other
processes follow the table by sequence number.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from servin_core import log
from servin_core._dataclass import dataclass, field
from servin_core.state.db import Database

__all__ = ["Event", "EventLog"]


@dataclass(frozen=True, slots=True)
class Event:
    """One row of the events table: what happened to which object."""

    seq: int
    time: float
    type: str
    action: str
    actor_id: str
    attributes: dict[str, str] = field(default_factory=dict)


class EventLog:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._listeners: list[Callable[[Event], None]] = []

    def record(
        self,
        conn: sqlite3.Connection,
        type_: str,
        action: str,
        actor_id: str,
        **attributes: str,
    ) -> None:
        """Add an event inside the caller's write transaction ``conn``."""
        now = time.time()
        cursor = conn.execute(
            "INSERT INTO events (time, type, action, actor_id, attributes)"
            " VALUES (?, ?, ?, ?, ?)",
            (now, type_, action, actor_id, json.dumps(attributes)),
        )
        log.events.debug("%s %s %s %s", type_, action, actor_id, attributes)
        event = Event(cursor.lastrowid or 0, now, type_, action, actor_id, attributes)
        if self._listeners:
            self._db.after_commit(lambda: self._notify(event))

    def _notify(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    def subscribe(self, listener: Callable[[Event], None]) -> Callable[[], None]:
        """Call ``listener`` for this process's events once they are committed;
        returns the function that unsubscribes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def since(
        self, seq: int = 0, *, since_time: float = 0.0, until_time: float | None = None
    ) -> list[Event]:
        """Events after ``seq`` (any process's), oldest first."""
        sql = "SELECT * FROM events WHERE seq > ? AND time >= ?"
        params: list[Any] = [seq, since_time]
        if until_time is not None:
            sql += " AND time <= ?"
            params.append(until_time)
        rows = self._db.query(sql + " ORDER BY seq", tuple(params))
        return [
            Event(
                row["seq"],
                row["time"],
                row["type"],
                row["action"],
                row["actor_id"],
                json.loads(row["attributes"]),
            )
            for row in rows
        ]
