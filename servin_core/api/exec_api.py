"""Exec endpoints: create, start (hijacked), resize, inspect.

An exec instance lives in this daemon's memory, as in dockerd: created by
one request, started by the next, inspected afterwards for its exit code
(``docker exec`` reads it once the stream has closed, so the code is
recorded before the stream closes). The command runs through the core's
``exec_`` with pipes for its streams, or a pty whose master the core hands
over. Finished instances are forgotten after a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import secrets
import struct
import termios
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from servin_core import log
from servin_core._dataclass import dataclass, field
from servin_core.api import params
from servin_core.api.app import Routes, core_of
from servin_core.api.frames import STDERR, STDOUT, frame
from servin_core.api.hijack import Hijacked, finished, take_over
from servin_core.api.streams import copy_in, copy_out, pipe_reader
from servin_core.containers.exec import ExecFailed, exec_
from servin_core.containers.reconcile import refresh
from servin_core.errors import Conflict, InvalidArgument, NotFound

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["EXECS", "ExecInstance", "console_size", "register"]

_KEEP_FINISHED = 300.0
"""Seconds a finished instance stays inspectable."""


@dataclass
class ExecInstance:
    id: str
    container_id: str
    cmd: list[str]
    env: list[str]
    user: str | None
    workdir: str | None
    tty: bool
    stdin: bool
    stdout: bool
    stderr: bool
    detach_keys: str = ""
    running: bool = False
    started: bool = False
    exit_code: int | None = None
    finished_at: float = 0.0
    master: int | None = None
    """The pty's master while a tty exec runs (for resizing)."""
    size: tuple[int, int] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def shape(self) -> dict[str, Any]:
        return {
            "ID": self.id,
            "Running": self.running,
            "ExitCode": self.exit_code,
            "ProcessConfig": {
                "tty": self.tty,
                "entrypoint": self.cmd[0],
                "arguments": self.cmd[1:],
                "privileged": False,
                "user": self.user or "",
            },
            "OpenStdin": self.stdin,
            "OpenStderr": self.stderr,
            "OpenStdout": self.stdout,
            "CanRemove": False,
            "ContainerID": self.container_id,
            "DetachKeys": self.detach_keys,
            "Pid": 0,
        }


EXECS = web.AppKey("execs", dict)


def _execs(request: web.Request) -> dict[str, ExecInstance]:
    table: dict[str, ExecInstance] = request.app[EXECS]
    return table


def _instance(request: web.Request) -> ExecInstance:
    ident = request.match_info["id"]
    found = _execs(request).get(ident)
    if found is None:
        raise NotFound("exec instance", ident, "No such exec instance")
    return found


def _forget_old(table: dict[str, ExecInstance]) -> None:
    now = time.time()
    for ident in [
        i
        for i, e in table.items()
        if e.finished_at and now - e.finished_at > _KEEP_FINISHED
    ]:
        del table[ident]


async def create(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await params.body_json(request, "exec")
    cmd = body.get("Cmd")
    if isinstance(cmd, str):
        cmd = [cmd]
    if not cmd or not isinstance(cmd, list) or not all(isinstance(a, str) for a in cmd):
        raise InvalidArgument("field", "Cmd", "a non-empty list of strings is needed")
    env = body.get("Env") or []
    if not isinstance(env, list) or not all(isinstance(e, str) for e in env):
        raise InvalidArgument("field", "Env", "expected a list of strings")
    container = refresh(core, core.containers.resolve(request.match_info["id"]))
    if not container.state.can_exec():
        raise Conflict("container", container.id, f"container is {container.state}")

    table = _execs(request)
    _forget_old(table)
    instance = ExecInstance(
        id=secrets.token_hex(32),
        container_id=container.id,
        cmd=list(cmd),
        env=list(env),
        user=str(body.get("User") or "") or None,
        workdir=str(body.get("WorkingDir") or "") or None,
        tty=bool(body.get("Tty")),
        stdin=bool(body.get("AttachStdin")),
        stdout=bool(body.get("AttachStdout")),
        stderr=bool(body.get("AttachStderr")),
        detach_keys=str(body.get("DetachKeys") or ""),
    )
    instance.size = console_size(body.get("ConsoleSize"))
    table[instance.id] = instance
    return web.json_response({"Id": instance.id}, status=201)


async def inspect(request: web.Request) -> web.Response:
    return web.json_response(_instance(request).shape())


def console_size(value: object) -> tuple[int, int] | None:
    """docker's ``ConsoleSize`` ([height, width]), sent at create so that
    the first thing the process reads is the right size; None if unset."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) for n in value)
        and value[0] > 0
        and value[1] > 0
    ):
        return value[0], value[1]
    return None


def _set_size(fd: int, height: int, width: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))


async def resize(request: web.Request) -> web.Response:
    instance = _instance(request)
    height = params.integer(request, "h") or 0
    width = params.integer(request, "w") or 0
    if height <= 0 or width <= 0:
        raise InvalidArgument("parameter", "h/w", "height and width must be positive")
    instance.size = (height, width)
    if instance.master is not None:
        with contextlib.suppress(OSError):
            _set_size(instance.master, height, width)
    return web.Response(status=200)


async def start(request: web.Request) -> web.StreamResponse:
    core = core_of(request)
    instance = _instance(request)
    body = await params.body_json(request, "exec start")
    if instance.started:
        raise Conflict("exec instance", instance.id, "already started")
    instance.started = True
    instance.size = console_size(body.get("ConsoleSize")) or instance.size
    detach = bool(body.get("Detach"))
    tty = instance.tty or bool(body.get("Tty"))
    logger = log.for_object(log.api, "container", instance.container_id)

    if detach:
        instance.running = True
        try:
            await exec_(
                core,
                instance.container_id,
                instance.cmd,
                env=instance.env,
                user=instance.user,
                workdir=instance.workdir,
                detach=True,
            )
        finally:
            instance.running = False
            instance.finished_at = time.time()
        return web.Response(status=200)

    kind = "raw-stream" if tty else "multiplexed-stream"
    client = take_over(request, f"application/vnd.docker.{kind}")
    instance.running = True
    try:
        if tty:
            code = await _run_tty(core, instance, client)
        else:
            code = await _run_piped(core, instance, client)
    except ExecFailed as e:
        logger.info("exec %s failed: %s", instance.cmd, e.reason)
        code = e.status
        message = (e.reason + "\r\n").encode()
        await client.write(message if tty else frame(STDERR, message))
    except Exception as e:
        logger.warning("exec %s: %s", instance.cmd, e)
        code = 126 if isinstance(e, Conflict) else 125
        message = (str(e) + "\r\n").encode()
        await client.write(message if tty else frame(STDERR, message))
    finally:
        instance.running = False
    instance.exit_code = code
    instance.finished_at = time.time()
    client.close()
    return finished()


async def _run_piped(core: Core, instance: ExecInstance, client: Hijacked) -> int:
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe() if instance.stdin else (None, None)
    copies = [
        asyncio.ensure_future(copy_out(await pipe_reader(out_r), client, STDOUT)),
        asyncio.ensure_future(copy_out(await pipe_reader(err_r), client, STDERR)),
    ]
    feeding = asyncio.ensure_future(copy_in(client, in_w)) if in_w is not None else None
    work = asyncio.ensure_future(
        exec_(
            core,
            instance.container_id,
            instance.cmd,
            env=instance.env,
            user=instance.user,
            workdir=instance.workdir,
            stdin=in_r,
            stdout=out_w if instance.stdout else null,
            stderr=err_w if instance.stderr else null,
        )
    )
    try:
        code = await client.unless_closed(work)
    finally:
        # Our copies of the write ends: once closed, the readers see EOF
        # when the command's own copies close.
        for fd in (out_w, err_w, null, in_r):
            if fd is not None:
                os.close(fd)
    await asyncio.gather(*copies, return_exceptions=True)
    if feeding is not None:
        feeding.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
    return code


async def _run_tty(core: Core, instance: ExecInstance, client: Hijacked) -> int:
    async def console(master: int) -> None:
        instance.master = master
        if instance.size is not None:
            with contextlib.suppress(OSError):
                _set_size(master, *instance.size)
        output = await pipe_reader(os.dup(master))
        feeding = asyncio.ensure_future(copy_in(client, os.dup(master)))
        try:
            await copy_out(output, client, None)
        finally:
            instance.master = None
            feeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeding

    work = asyncio.ensure_future(
        exec_(
            core,
            instance.container_id,
            instance.cmd,
            env=instance.env,
            user=instance.user,
            workdir=instance.workdir,
            tty=True,
            console=console,
            size=instance.size,
        )
    )
    return await client.unless_closed(work)


def register(app: web.Application, routes: Routes) -> None:
    app[EXECS] = {}
    routes.add("POST", "/containers/{id}/exec", create)
    routes.add("POST", "/exec/{id}/start", start)
    routes.add("POST", "/exec/{id}/resize", resize)
    routes.add("GET", "/exec/{id}/json", inspect)
