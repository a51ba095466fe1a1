"""Servin's own API, ``/servin/v1/...``, beside docker's on the same socket.

For Servin's remote clients (the TUI over an SSH tunnel, scripts): what
docker's API has no words for. ``info`` says how this host runs containers
(which runtime and why, the cgroup layout, the network backend); ``pods``
lists the CRI's pods with their containers; ``vm`` says whether a VM runs
the core; ``events`` gives the events table's rows as they are, with their
sequence numbers, as JSON lines.

Keys are snake_case. Version 1 may gain fields; it never renames or drops
one. Errors are docker's ``{"message": ...}`` with docker's codes, through
the one mapping in errors.py. The CRI's modules (gRPC, protobuf) are
imported only when pods are asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from servin_core.api import params
from servin_core.api.app import API_VERSION, SERVIN_VERSION, core_of
from servin_core.api.events import event_rows
from servin_core.api.params import parse_time
from servin_core.api.system import runtime_choice
from servin_core.errors import InvalidArgument, NotFound
from servin_core.events import Event

if TYPE_CHECKING:
    from servin_core.core import Core
    from servin_cri.pod_store import Pod, PodStore

__all__ = ["PREFIX", "register"]

PREFIX = "/servin/v1"
_CGROUP = Path("/sys/fs/cgroup")


def _time(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _cgroup() -> dict[str, Any]:
    if (_CGROUP / "cgroup.controllers").exists():
        return {"version": 2, "layout": "unified"}
    hybrid = (_CGROUP / "unified" / "cgroup.controllers").exists()
    return {
        "version": 1,
        "layout": "hybrid" if hybrid else "legacy",
        "controllers": sorted(
            entry.name
            for entry in os.scandir(_CGROUP)
            if entry.is_dir() and not entry.is_symlink() and entry.name != "unified"
        ),
    }


def _runtime(core: Core) -> dict[str, Any]:
    configured = core.config.default_runtime
    chosen, why_not = runtime_choice(core.config)
    if not why_not:
        reason = f"{configured} is the configured runtime and runs containers here"
    else:
        reason = f"{configured} cannot run containers here ({why_not}): runc instead"
    return {
        "configured": configured,
        "chosen": chosen,
        "path": shutil.which(chosen),
        "reason": reason,
    }


async def _firewall() -> str:
    """``iptables --version``: which backend (nf_tables or legacy) the NAT
    and port rules go through; "" when there is no iptables."""
    if shutil.which("iptables") is None:
        return ""
    process = await asyncio.create_subprocess_exec(
        "iptables",
        "--version",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await process.communicate()
    return out.decode(errors="replace").strip()


def _network(core: Core, firewall: str) -> dict[str, Any]:
    from servin_core.network.cni import PLUGIN_DIRS

    return {
        "backend": "cni",
        "plugin_dirs": [str(d) for d in PLUGIN_DIRS if d.is_dir()],
        "cni_conf_dir": str(core.config.cni_conf_dir),
        "default_bridge": core.config.default_bridge,
        "default_subnet": core.config.default_network_subnet,
        "firewall": firewall,
    }


async def info(request: web.Request) -> web.Response:
    core = core_of(request)
    runtime = await asyncio.to_thread(_runtime, core)
    return web.json_response(
        {
            "version": SERVIN_VERSION,
            "engine_api_version": API_VERSION,
            "data_dir": str(core.config.data_dir),
            "run_dir": str(core.config.run_dir),
            "runtime": runtime,
            "cgroup": _cgroup(),
            "network": _network(core, await _firewall()),
            "kernel": platform.release(),
            "arch": platform.machine(),
        }
    )


def _pods(core: Core) -> PodStore:
    from servin_cri.pod_store import PodStore

    return PodStore(core.db)


def _pod(core: Core, store: PodStore, pod: Pod) -> dict[str, Any]:
    containers = []
    for member in store.members(pod.id):
        try:
            container = core.containers.get(member.container_id)
        except NotFound:
            continue  # removed by another process since the row was read
        containers.append(
            {
                "id": container.id,
                "name": member.config.metadata.name,
                "attempt": member.config.metadata.attempt,
                "image": container.image_name,
                "state": str(container.state),
                "created": _time(container.created),
                "started_at": _time(container.started_at),
                "finished_at": _time(container.finished_at),
                "exit_code": container.exit_code,
                "labels": dict(member.config.labels),
            }
        )
    meta = pod.metadata
    return {
        "id": pod.id,
        "name": meta.name,
        "namespace": meta.namespace,
        "uid": meta.uid,
        "attempt": meta.attempt,
        "state": str(pod.state),
        "created": _time(pod.created),
        "ip": pod.ip,
        "hostname": pod.config.hostname,
        "runtime_handler": pod.runtime_handler,
        "labels": dict(pod.config.labels),
        "annotations": dict(pod.config.annotations),
        "containers": containers,
    }


async def pods(request: web.Request) -> web.Response:
    core = core_of(request)
    store = _pods(core)
    listed = [_pod(core, store, pod) for pod in store.list()]
    return web.json_response(listed)


async def pod(request: web.Request) -> web.Response:
    core = core_of(request)
    store = _pods(core)
    found = store.resolve(request.match_info["id"])
    return web.json_response(_pod(core, store, found))


async def vm(request: web.Request) -> web.Response:
    # TODO: report the VM's state (QEMU, its accelerator, the guest's core)
    # once servin_core/machine exists; on a Linux host the core runs
    # natively and needs none.
    return web.json_response(
        {
            "available": False,
            "state": "not available",
            "reason": "the core runs natively on this host: Linux runs containers"
            " without a VM, and Servin's VM mode is not built yet",
            "host": {"os": platform.system().lower(), "kernel": platform.release()},
        }
    )


def _row(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "time": event.time,
        "time_rfc3339": _time(event.time),
        "type": event.type,
        "action": event.action,
        "actor_id": event.actor_id,
        "attributes": event.attributes,
    }


async def events(request: web.Request) -> web.StreamResponse:
    """JSON lines. Without ``since`` or ``after``: every row, or only new
    ones when following. ``follow`` keeps the stream open (headers sent at
    once) until ``until`` or the client leaves. ``type`` (repeatable) and
    ``actor`` (an ID or its prefix) keep only those rows."""
    core = core_of(request)
    since = parse_time(params.text(request, "since"), "since")
    until = parse_time(params.text(request, "until"), "until")
    after = params.integer(request, "after")
    if after is not None and after < 0:
        raise InvalidArgument("parameter", "after", "must not be negative")
    follow = params.flag(request, "follow")
    if after is None and since is None and not follow:
        after = 0
    types = set(request.query.getall("type", []))
    actor = params.text(request, "actor")

    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    rows = event_rows(
        request, core, since=since, until=until, after=after, follow=follow
    )
    async with contextlib.aclosing(rows):
        async for event in rows:
            if types and event.type not in types:
                continue
            if actor and not event.actor_id.startswith(actor):
                continue
            await response.write(json.dumps(_row(event)).encode() + b"\n")
    transport = request.transport
    if transport is not None and not transport.is_closing():
        await response.write_eof()
    return response


def register(app: web.Application) -> None:
    """The native routes: under ``/servin/v1`` only, never docker's
    version prefixes."""
    router = app.router
    router.add_get(f"{PREFIX}/info", info, allow_head=False)
    router.add_get(f"{PREFIX}/pods", pods, allow_head=False)
    router.add_get(f"{PREFIX}/pods/{{id}}", pod, allow_head=False)
    router.add_get(f"{PREFIX}/vm", vm, allow_head=False)
    router.add_get(f"{PREFIX}/events", events, allow_head=False)
