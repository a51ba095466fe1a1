"""The network store: rows of the ``networks`` and ``endpoints`` tables.

A network resolves by full ID, name or unique ID prefix, as docker resolves
it. An endpoint row says that a container belongs to a network; it is made
at create (or ``network connect``) and stays while the container exists;
its address and published ports are filled while the container runs.
"""

from __future__ import annotations

import builtins
import json
import re
import sqlite3

from servin_core.errors import AlreadyExists, InvalidArgument, NotFound
from servin_core.events import EventLog
from servin_core.network.model import Endpoint, Network, PortMapping
from servin_core.state.db import Database

__all__ = ["NetworkStore", "endpoint_of_row"]

_HEX_RE = re.compile(r"[0-9a-f]{1,64}")


class NetworkStore:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    def add(self, conn: sqlite3.Connection, network: Network) -> None:
        taken = conn.execute(
            "SELECT id FROM networks WHERE name = ?", (network.name,)
        ).fetchone()
        if taken is not None:
            raise AlreadyExists(
                "network", network.name, f"already exists as {taken[0][:12]}"
            )
        conn.execute(
            "INSERT INTO networks (id, name, driver, bridge, subnet, gateway,"
            " internal, dns, labels, options, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                network.id, network.name, network.driver, network.bridge,
                network.subnet, network.gateway, int(network.internal),
                int(network.dns), json.dumps(network.labels),
                json.dumps(network.options), network.created,
            ),
        )  # fmt: skip
        self._events.record(
            conn, "network", "create", network.id, name=network.name, type="bridge"
        )

    def delete(self, conn: sqlite3.Connection, network: Network) -> None:
        conn.execute("DELETE FROM networks WHERE id = ?", (network.id,))
        self._events.record(
            conn, "network", "destroy", network.id, name=network.name, type="bridge"
        )

    def get(self, network_id: str) -> Network:
        row = self._db.query_one("SELECT * FROM networks WHERE id = ?", (network_id,))
        if row is None:
            raise NotFound("network", network_id, "No such network")
        return _network(row)

    def find(self, name: str) -> Network | None:
        row = self._db.query_one("SELECT * FROM networks WHERE name = ?", (name,))
        return None if row is None else _network(row)

    def resolve(self, text: str) -> Network:
        """By full ID, then name, then unique ID prefix."""
        row = self._db.query_one(
            "SELECT * FROM networks WHERE id = ? OR name = ?"
            " ORDER BY id = ? DESC LIMIT 1",
            (text, text, text),
        )
        if row is not None:
            return _network(row)
        if _HEX_RE.fullmatch(text):
            rows = self._db.query(
                "SELECT * FROM networks WHERE id LIKE ? LIMIT 2", (text + "%",)
            )
            if len(rows) == 1:
                return _network(rows[0])
            if len(rows) > 1:
                raise InvalidArgument("network", text, "ambiguous ID prefix")
        raise NotFound("network", text, "No such network")

    def list(self) -> builtins.list[Network]:
        rows = self._db.query("SELECT * FROM networks ORDER BY created")
        return [_network(row) for row in rows]

    def add_endpoint(self, conn: sqlite3.Connection, endpoint: Endpoint) -> None:
        conn.execute(
            "INSERT INTO endpoints (container_id, network_id, interface, aliases,"
            " static_ip) VALUES (?, ?, ?, ?, ?)",
            (
                endpoint.container_id,
                endpoint.network_id,
                endpoint.interface,
                json.dumps(list(endpoint.aliases)),
                endpoint.static_ip,
            ),
        )

    def delete_endpoint(self, conn: sqlite3.Connection, endpoint: Endpoint) -> None:
        conn.execute(
            "DELETE FROM endpoints WHERE container_id = ? AND network_id = ?",
            (endpoint.container_id, endpoint.network_id),
        )

    def set_running(
        self,
        endpoint: Endpoint,
        *,
        ip: str,
        mac: str,
        ports: tuple[PortMapping, ...],
    ) -> None:
        """Record the address and ports of a joined endpoint ("" and () on
        leaving)."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE endpoints SET ip = ?, mac = ?, ports = ?"
                " WHERE container_id = ? AND network_id = ?",
                (
                    ip,
                    mac,
                    json.dumps([port.to_json() for port in ports]),
                    endpoint.container_id,
                    endpoint.network_id,
                ),
            )

    def endpoints_of(self, container_id: str) -> builtins.list[Endpoint]:
        """The container's endpoints, first network first (eth0, eth1...)."""
        rows = self._db.query(
            "SELECT * FROM endpoints WHERE container_id = ?"
            " ORDER BY length(interface), interface",
            (container_id,),
        )
        return [endpoint_of_row(row) for row in rows]

    def endpoints_on(self, network_id: str) -> builtins.list[Endpoint]:
        rows = self._db.query(
            "SELECT * FROM endpoints WHERE network_id = ?", (network_id,)
        )
        return [endpoint_of_row(row) for row in rows]

    def all_endpoints(self) -> builtins.list[Endpoint]:
        rows = self._db.query("SELECT * FROM endpoints")
        return [endpoint_of_row(row) for row in rows]


def _network(row: sqlite3.Row) -> Network:
    return Network(
        id=row["id"],
        name=row["name"],
        driver=row["driver"],
        bridge=row["bridge"],
        subnet=row["subnet"],
        gateway=row["gateway"],
        internal=bool(row["internal"]),
        dns=bool(row["dns"]),
        labels=json.loads(row["labels"]),
        options=json.loads(row["options"]),
        created=row["created"],
    )


def endpoint_of_row(row: sqlite3.Row) -> Endpoint:
    return Endpoint(
        container_id=row["container_id"],
        network_id=row["network_id"],
        interface=row["interface"],
        ip=row["ip"],
        mac=row["mac"],
        aliases=tuple(json.loads(row["aliases"])),
        static_ip=row["static_ip"],
        ports=tuple(PortMapping.from_json(p) for p in json.loads(row["ports"])),
    )
