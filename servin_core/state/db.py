"""One SQLite database per store, safe to share between processes.

WAL mode lets readers run beside one writer; every write happens in a
``BEGIN IMMEDIATE`` transaction, so a second process waits for the first
(``busy_timeout``) instead of failing or interleaving.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from servin_core import log
from servin_core.errors import Unavailable
from servin_core.state.migrations import MIGRATIONS

__all__ = ["Database"]

_BUSY_TIMEOUT_MS = 60_000


class Database:
    """The state store at ``path``, migrated to the newest schema on open."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=60
            )
        except sqlite3.Error as e:
            raise Unavailable("database", str(path), str(e)) from e
        self._conn.row_factory = sqlite3.Row
        # One connection is shared by the event loop thread and worker threads.
        self._lock = threading.RLock()
        self._after_commit: list[Callable[[], None]] = []
        self._conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        self._conn.execute("PRAGMA journal_mode = WAL")
        self._conn.execute("PRAGMA synchronous = NORMAL")
        self._conn.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @property
    def schema_version(self) -> int:
        row = self._conn.execute("PRAGMA user_version").fetchone()
        return int(row[0])

    def _migrate(self) -> None:
        if self.schema_version == len(MIGRATIONS):
            return
        with self.write() as conn:
            # Re-read inside the lock: another process may have migrated.
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current > len(MIGRATIONS):
                raise Unavailable(
                    "database",
                    str(self.path),
                    f"schema version {current} is newer than this Servin knows "
                    f"({len(MIGRATIONS)})",
                )
            for version in range(current, len(MIGRATIONS)):
                log.state.info("migrating %s to schema %d", self.path, version + 1)
                for statement in _statements(MIGRATIONS[version]):
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: committed on success, rolled back on error."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._after_commit.clear()
                raise
            self._conn.execute("COMMIT")
            callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current write transaction has committed,
        and never if it rolls back."""
        self._after_commit.append(callback)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several reads."""
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                yield self._conn
            finally:
                self._conn.execute("COMMIT")

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        with self._lock:
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row


def _statements(script: str) -> Iterator[str]:
    """Split a migration into statements, so that they run inside our transaction
    (``executescript`` would commit it)."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statement = buffer.strip()
            if statement:
                yield statement
            buffer = ""
