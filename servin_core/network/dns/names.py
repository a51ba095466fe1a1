"""The names a network's containers answer to, and the reverse names of
their addresses, read from the state database.

The responder opens the database read-only and keeps the whole table for its
network in memory. ``PRAGMA data_version`` changes whenever another
connection commits, so a lookup costs one pragma while nothing changed, and
one small query on the network's endpoints after a change.
"""

from __future__ import annotations

import ipaddress
import json
import sqlite3
from pathlib import Path
from urllib.parse import quote

__all__ = ["NameTable", "open_readonly"]

# Only containers with processes answer: docker forgets a stopped
# container's name, and its address may already belong to another.
_ACTIVE_STATES = ("running", "paused")

_ENDPOINTS = """
SELECT c.id, c.name, c.state, e.ip, e.aliases
FROM endpoints AS e JOIN containers AS c ON c.id = e.container_id
WHERE e.network_id = ?
"""


def open_readonly(path: Path) -> sqlite3.Connection:
    """The state database, read-only; it stays in WAL mode, which its
    writers set, so reads never block them."""
    conn = sqlite3.connect(
        f"file:{quote(str(path))}?mode=ro",
        uri=True,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


class NameTable:
    """Names (lower case) of the containers on one network, with their
    addresses, kept current with the database."""

    def __init__(self, conn: sqlite3.Connection, network_id: str) -> None:
        self._conn = conn
        self._network_id = network_id
        self._version: int | None = None
        self._v4: dict[str, list[bytes]] = {}
        self._v6: dict[str, list[bytes]] = {}
        self._reverse: dict[str, str] = {}
        self.network_exists = True
        self.internal = False
        """An internal network's containers reach nothing outside it, names
        included: the responder forwards nothing for them."""

    def refresh(self) -> bool:
        """Re-read the table if the database changed; True if it did."""
        version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        if version == self._version:
            return False

        # One snapshot for both reads: a network removed between them must
        # not look like a network with no containers.
        self._conn.execute("BEGIN")
        try:
            network = self._conn.execute(
                "SELECT internal FROM networks WHERE id = ?", (self._network_id,)
            ).fetchone()
            rows = self._conn.execute(_ENDPOINTS, (self._network_id,)).fetchall()
        finally:
            self._conn.execute("COMMIT")
        self.network_exists = network is not None
        self.internal = bool(network and network[0])
        self._v4, self._v6, self._reverse = _index(rows)
        self._version = version
        return True

    def lookup(self, name: str) -> tuple[list[bytes], list[bytes]] | None:
        """The packed IPv4 and IPv6 addresses of ``name``, or None if no
        container on the network has that name."""
        self.refresh()
        v4 = self._v4.get(name)
        v6 = self._v6.get(name)
        if v4 is None and v6 is None:
            return None
        return v4 or [], v6 or []

    def pointer(self, name: str) -> str | None:
        """The container name a reverse name (``10.0.89.10.in-addr.arpa``)
        points to, or None if it is no container's address."""
        self.refresh()
        return self._reverse.get(name)


_Tables = tuple[dict[str, list[bytes]], dict[str, list[bytes]], dict[str, str]]


def _index(rows: list[tuple[str, str, str, str, str]]) -> _Tables:
    v4: dict[str, list[bytes]] = {}
    v6: dict[str, list[bytes]] = {}
    reverse: dict[str, str] = {}
    for container_id, name, state, ip, aliases_json in rows:
        if state not in _ACTIVE_STATES or not ip:
            continue
        try:
            address = ipaddress.ip_interface(ip).ip
        except ValueError:
            continue
        reverse[address.reverse_pointer] = name.lstrip("/")
        table = v4 if address.version == 4 else v6
        for key in _names_of(container_id, name, aliases_json):
            # An alias several containers share answers with all of them,
            # as docker's round robin does.
            addresses = table.setdefault(key, [])
            if address.packed not in addresses:
                addresses.append(address.packed)
    return v4, v6, reverse


def _names_of(container_id: str, name: str, aliases_json: str) -> set[str]:
    names = {name.lstrip("/").lower(), container_id[:12].lower()}
    try:
        aliases = json.loads(aliases_json)
    except ValueError:
        aliases = []
    if isinstance(aliases, list):
        names.update(a.lower().rstrip(".") for a in aliases if isinstance(a, str))
    names.discard("")
    return names
