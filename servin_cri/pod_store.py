"""The rows of CRI pods and of their containers (schema ``_V4``).

A pod's container is an ordinary container of the core; its row here ties
it to the pod and keeps the CRI configuration kubelet gave (labels,
annotations, metadata, the log path), which the core has no place for.
Configurations are kept as protobuf JSON, readable with sqlite3.
"""

from __future__ import annotations

import builtins
import re
import sqlite3
import time
from enum import StrEnum

from google.protobuf import json_format

from servin_core._dataclass import dataclass
from servin_core.errors import AlreadyExists, InvalidArgument, NotFound
from servin_core.events import EventLog
from servin_core.state.db import Database
from servin_cri.pb import api_pb2 as pb

__all__ = ["Pod", "PodContainer", "PodState", "PodStore"]

_PREFIX = re.compile(r"[0-9a-f]{1,64}")


class PodState(StrEnum):
    READY = "ready"
    NOTREADY = "notready"


@dataclass(frozen=True)
class Pod:
    id: str
    state: PodState
    created: float
    config: pb.PodSandboxConfig
    runtime_handler: str
    ip: str

    @property
    def metadata(self) -> pb.PodSandboxMetadata:
        return self.config.metadata


@dataclass(frozen=True)
class PodContainer:
    """The CRI side of one of a pod's containers."""

    container_id: str
    pod_id: str
    config: pb.ContainerConfig


def _dump(message: pb.PodSandboxConfig | pb.ContainerConfig) -> str:
    return json_format.MessageToJson(
        message, preserving_proto_field_name=True, indent=None
    )


def _pod(row: sqlite3.Row) -> Pod:
    config = json_format.Parse(row["config"], pb.PodSandboxConfig())
    return Pod(
        row["id"],
        PodState(row["state"]),
        row["created"],
        config,
        row["runtime_handler"],
        row["ip"],
    )


def _member(row: sqlite3.Row) -> PodContainer:
    config = json_format.Parse(row["config"], pb.ContainerConfig())
    return PodContainer(row["container_id"], row["pod_id"], config)


class PodStore:
    """The pods' rows. Given the core's event log, each change of a pod
    (``create``, ``start``, ``stop``, ``remove``, type ``pod``) is recorded
    in the same transaction, for the other Servin processes to follow."""

    def __init__(self, db: Database, events: EventLog | None = None) -> None:
        self._db = db
        self._events = events

    def _record(
        self, conn: sqlite3.Connection, action: str, pod_id: str, name: str, ns: str
    ) -> None:
        if self._events is not None:
            self._events.record(conn, "pod", action, pod_id, name=name, namespace=ns)

    # Pods

    def add(self, pod_id: str, config: pb.PodSandboxConfig, handler: str) -> Pod:
        meta = config.metadata
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO pods (id, name, namespace, uid, attempt, state,"
                    " created, config, runtime_handler)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        pod_id,
                        meta.name,
                        meta.namespace,
                        meta.uid,
                        meta.attempt,
                        PodState.NOTREADY,
                        time.time(),
                        _dump(config),
                        handler,
                    ),
                )
                self._record(conn, "create", pod_id, meta.name, meta.namespace)
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(
                "pod",
                f"{meta.namespace}/{meta.name}",
                f"a sandbox with uid {meta.uid} and attempt {meta.attempt} exists",
            ) from e
        return self.get(pod_id)

    def get(self, pod_id: str) -> Pod:
        row = self._db.query_one("SELECT * FROM pods WHERE id = ?", (pod_id,))
        if row is None:
            raise NotFound("pod sandbox", pod_id, "no such pod sandbox")
        return _pod(row)

    def resolve(self, text: str) -> Pod:
        """By full ID or unique prefix, as crictl lets users type them."""
        if not text:
            raise InvalidArgument("pod sandbox", "", "no pod sandbox ID given")
        row = self._db.query_one("SELECT * FROM pods WHERE id = ?", (text,))
        if row is None and _PREFIX.fullmatch(text):
            rows = self._db.query(
                "SELECT * FROM pods WHERE id LIKE ? LIMIT 2", (text + "%",)
            )
            if len(rows) > 1:
                raise InvalidArgument("pod sandbox", text, "ambiguous ID prefix")
            row = rows[0] if rows else None
        if row is None:
            raise NotFound("pod sandbox", text, "no such pod sandbox")
        return _pod(row)

    def list(self) -> builtins.list[Pod]:
        rows = self._db.query("SELECT * FROM pods ORDER BY created")
        return [_pod(row) for row in rows]

    def set_state(self, pod_id: str, state: PodState, ip: str | None = None) -> None:
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT state, name, namespace FROM pods WHERE id = ?", (pod_id,)
            ).fetchone()
            conn.execute("UPDATE pods SET state = ? WHERE id = ?", (state, pod_id))
            if ip is not None:
                conn.execute("UPDATE pods SET ip = ? WHERE id = ?", (ip, pod_id))
            if row is not None and row[0] != state:
                action = "start" if state is PodState.READY else "stop"
                self._record(conn, action, pod_id, row[1], row[2])

    def set_config(self, pod_id: str, config: pb.PodSandboxConfig) -> None:
        with self._db.write() as conn:
            conn.execute(
                "UPDATE pods SET config = ? WHERE id = ?", (_dump(config), pod_id)
            )

    def delete(self, pod_id: str) -> None:
        with self._db.write() as conn:
            row = conn.execute(
                "SELECT name, namespace FROM pods WHERE id = ?", (pod_id,)
            ).fetchone()
            conn.execute("DELETE FROM pod_containers WHERE pod_id = ?", (pod_id,))
            conn.execute("DELETE FROM pods WHERE id = ?", (pod_id,))
            if row is not None:
                self._record(conn, "remove", pod_id, row[0], row[1])

    # Containers of pods

    def add_member(
        self, container_id: str, pod_id: str, config: pb.ContainerConfig
    ) -> None:
        """Record ``container_id`` as ``pod_id``'s."""
        meta = config.metadata
        try:
            with self._db.write() as conn:
                conn.execute(
                    "INSERT INTO pod_containers (container_id, pod_id, name,"
                    " attempt, config) VALUES (?, ?, ?, ?, ?)",
                    (container_id, pod_id, meta.name, meta.attempt, _dump(config)),
                )
        except sqlite3.IntegrityError as e:
            raise AlreadyExists(
                "container",
                meta.name,
                f"attempt {meta.attempt} exists in pod sandbox {pod_id[:12]}",
            ) from e

    def set_member_config(self, container_id: str, config: pb.ContainerConfig) -> None:
        with self._db.write() as conn:
            conn.execute(
                "UPDATE pod_containers SET config = ? WHERE container_id = ?",
                (_dump(config), container_id),
            )

    def member(self, container_id: str) -> PodContainer:
        row = self._db.query_one(
            "SELECT * FROM pod_containers WHERE container_id = ?", (container_id,)
        )
        if row is None:
            raise NotFound("container", container_id, "not a CRI container")
        return _member(row)

    def members(self, pod_id: str | None = None) -> builtins.list[PodContainer]:
        if pod_id is None:
            rows = self._db.query("SELECT * FROM pod_containers")
        else:
            rows = self._db.query(
                "SELECT * FROM pod_containers WHERE pod_id = ?", (pod_id,)
            )
        return [_member(row) for row in rows]
