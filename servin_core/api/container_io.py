"""What comes out of a container: logs, stats, top, changes, archives.

Followed logs and streamed stats send their headers at once and each piece
as it comes. Logs are framed (see frames.py) unless the container has a
tty. Archives are tar streams, made and unpacked by the core's ``cp`` code
in a worker thread and joined to the HTTP body by a pipe (bridge.py); a
path outside the container's root cannot be reached through them (the core
resolves every path inside the root).
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from aiohttp import web

from servin_core._records import to_data
from servin_core.api import params
from servin_core.api.app import Routes, core_of
from servin_core.api.bridge import from_thread, into_thread
from servin_core.api.containers import until_disconnected
from servin_core.api.frames import STDERR, STDOUT, frame
from servin_core.api.params import parse_time
from servin_core.containers.reconcile import refresh
from servin_core.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from servin_core.containers.model import Container
    from servin_core.containers.stats import Sample

__all__ = ["register"]


def _container(request: web.Request) -> Container:
    core = core_of(request)
    return refresh(core, core.containers.resolve(request.match_info["id"]))


def _stamp(moment: datetime) -> bytes:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ").encode()


async def logs(request: web.Request) -> web.StreamResponse:
    from servin_core.containers.logs import read_logs

    core = core_of(request)
    container = _container(request)
    stdout = params.flag(request, "stdout")
    stderr = params.flag(request, "stderr")
    if not (stdout or stderr):
        raise InvalidArgument(
            "parameter", "stdout", "choose at least one of stdout and stderr"
        )
    tail_text = params.text(request, "tail", "all")
    tail = None
    if tail_text not in ("all", ""):
        tail = params.integer(request, "tail")
        tail = None if tail is not None and tail < 0 else tail
    since = parse_time(params.text(request, "since"), "since") or None
    until = parse_time(params.text(request, "until"), "until")
    stamps = params.flag(request, "timestamps")
    raw = container.config.tty

    response = web.StreamResponse(
        headers={
            "Content-Type": "application/vnd.docker.raw-stream"
            if raw
            else "application/vnd.docker.multiplexed-stream"
        }
    )
    await response.prepare(request)
    lines = read_logs(
        core,
        container,
        follow=params.flag(request, "follow"),
        tail=tail,
        since=since,
        until=until,
    )

    async def send() -> None:
        async for line in lines:
            wanted = stdout if line.stream == "stdout" else stderr
            if not wanted:
                continue
            data = _stamp(line.time) + b" " + line.data if stamps else line.data
            stream = STDOUT if line.stream == "stdout" else STDERR
            await response.write(data if raw else frame(stream, data))

    # A follower whose client left is stopped, even while no line comes.
    await until_disconnected(request, send())
    await response.write_eof()
    return response


def _docker_stats(
    container: Container, before: Sample | None, after: Sample, read: float
) -> dict[str, Any]:
    def cpu(sample: Sample | None) -> dict[str, Any]:
        if sample is None:
            return {"cpu_usage": {"total_usage": 0}, "throttling_data": {}}
        return {
            "cpu_usage": {
                "total_usage": sample.container_cpu_ns,
                "usage_in_kernelmode": 0,
                "usage_in_usermode": 0,
            },
            "system_cpu_usage": sample.system_cpu_ns,
            "online_cpus": sample.online_cpus,
            "throttling_data": {
                "periods": 0,
                "throttled_periods": 0,
                "throttled_time": 0,
            },
        }

    moment = datetime.fromtimestamp(read, UTC)
    answer = {
        "read": moment.isoformat().replace("+00:00", "Z"),
        "preread": "0001-01-01T00:00:00Z",
        "id": container.id,
        "name": f"/{container.name}",
        "pids_stats": {"current": after.pids},
        "blkio_stats": {
            "io_service_bytes_recursive": [
                {"major": 0, "minor": 0, "op": "read", "value": after.block_read},
                {"major": 0, "minor": 0, "op": "write", "value": after.block_written},
            ]
        },
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu(after),
        "precpu_stats": cpu(before),
        "memory_stats": {
            "usage": after.memory_usage,
            "limit": after.memory_limit,
            "stats": {},
        },
    }
    if after.networks:  # docker leaves the key out for --network none
        # Interface's fields are docker's names.
        answer["networks"] = {
            name: to_data(counters) for name, counters in after.networks.items()
        }
    return answer


async def _samples(
    container: Container, first_wait: float
) -> AsyncIterator[tuple[Sample | None, Sample]]:
    from servin_core.containers.stats import sample

    before: Sample | None = None
    if first_wait:
        before = await asyncio.to_thread(sample, container)
        await asyncio.sleep(first_wait)
    while True:
        after = await asyncio.to_thread(sample, container)
        yield before, after
        before = after
        await asyncio.sleep(1.0)


async def stats(request: web.Request) -> web.StreamResponse:
    container = _container(request)
    stream = params.flag(request, "stream", True)
    one_shot = params.flag(request, "one-shot")
    if not (container.state.is_active and container.pid > 0):
        empty = {"id": container.id, "name": f"/{container.name}", "read": ""}
        return web.json_response(empty)

    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    # Without a stream, wait for a second sample (CPU % needs two), unless
    # the client asked for one sample only.
    first_wait = 0.0 if stream or one_shot else 1.0
    async for before, after in _samples(container, first_wait):
        body = _docker_stats(container, before, after, time.time())
        await response.write(json.dumps(body).encode() + b"\n")
        if not stream:
            break
        current = refresh(core_of(request), container)
        if not current.state.is_active:
            break
    await response.write_eof()
    return response


async def top(request: web.Request) -> web.Response:
    from servin_core.containers.top import top as top_of

    args = params.text(request, "ps_args").split()
    table = await top_of(core_of(request), request.match_info["id"], args)
    return web.json_response({"Titles": table.titles, "Processes": table.processes})


async def changes(request: web.Request) -> web.Response:
    from servin_core.containers.diff import diff

    kinds = {"C": 0, "A": 1, "D": 2}
    found = await diff(core_of(request), request.match_info["id"])
    return web.json_response([{"Path": c.path, "Kind": kinds[c.kind]} for c in found])


def _path_stat(request: web.Request, path: str) -> dict[str, Any]:
    from servin_core.containers.copy import path_info

    info = path_info(core_of(request), request.match_info["id"], path)
    if not info.exists:
        raise NotFound(
            "path", f"{request.match_info['id']}:{path}", "No such container:path"
        )
    mode = info.mode | (0o20000000000 if info.is_dir else 0)  # Go's ModeDir
    return {
        "name": info.name,
        "size": info.size,
        "mode": mode,
        "mtime": "0001-01-01T00:00:00Z",
        "linkTarget": "",
    }


def _stat_header(found: dict[str, Any]) -> str:
    return base64.b64encode(json.dumps(found).encode()).decode()


def _archive_path(request: web.Request) -> str:
    path = params.text(request, "path")
    if not path:
        raise InvalidArgument("parameter", "path", "a path is required")
    return path


async def archive_head(request: web.Request) -> web.Response:
    found = await asyncio.to_thread(_path_stat, request, _archive_path(request))
    return web.Response(headers={"X-Docker-Container-Path-Stat": _stat_header(found)})


async def archive_get(request: web.Request) -> web.StreamResponse:
    from servin_core.containers.copy import copy_from_container

    path = _archive_path(request)
    found = await asyncio.to_thread(_path_stat, request, path)
    response = web.StreamResponse(
        headers={
            "Content-Type": "application/x-tar",
            "X-Docker-Container-Path-Stat": _stat_header(found),
        }
    )
    await response.prepare(request)
    core, ident = core_of(request), request.match_info["id"]
    await from_thread(
        lambda out: copy_from_container(core, ident, path, out), response.write
    )
    await response.write_eof()
    return response


async def archive_put(request: web.Request) -> web.Response:
    from servin_core.containers.copy import copy_to_container

    path = _archive_path(request)
    core, ident = core_of(request), request.match_info["id"]

    def consume(stream: BinaryIO) -> None:
        copy_to_container(core, ident, path, stream)

    await into_thread(request.content.iter_chunked(1 << 16), consume)
    return web.Response(status=200)


async def export(request: web.Request) -> web.StreamResponse:
    from servin_core.containers.copy import copy_from_container

    core, ident = core_of(request), request.match_info["id"]
    core.containers.resolve(ident)
    response = web.StreamResponse(headers={"Content-Type": "application/x-tar"})
    await response.prepare(request)
    await from_thread(
        lambda out: copy_from_container(core, ident, "/", out, arcname="."),
        response.write,
    )
    await response.write_eof()
    return response


def register(app: web.Application, routes: Routes) -> None:
    routes.add("GET", "/containers/{id}/logs", logs)
    routes.add("GET", "/containers/{id}/stats", stats)
    routes.add("GET", "/containers/{id}/top", top)
    routes.add("GET", "/containers/{id}/changes", changes)
    routes.add("GET", "/containers/{id}/export", export)
    routes.add("HEAD", "/containers/{id}/archive", archive_head)
    routes.add("GET", "/containers/{id}/archive", archive_get)
    routes.add("PUT", "/containers/{id}/archive", archive_put)
