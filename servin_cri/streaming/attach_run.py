"""Attaching a remote client to a running container's own stdio.

servin_core's attach (servin_core/containers/attach.py) copies the
container's output as it comes; here it goes to the client's streams,
input and resize messages come back. No detach keys: the client ends an
attach by closing its connection, which leaves the container running.
When the container exits the attach ends with Success, as kubelet's
does: the exit code is the container's status, not the attach's.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from servin_core.containers import attach
from servin_core.errors import Conflict, InvalidArgument, NotFound
from servin_cri.streaming.remote_io import RemoteIO
from servin_cri.streaming.status import exit_status, failure

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["run_attach"]


async def run_attach(core: Core, container_id: str, io: RemoteIO) -> dict[str, Any]:
    """Attach until the container exits or the client goes."""
    options = io.options

    async def on_output(stream: str, data: bytes) -> None:
        if stream == "stderr" and options.stderr:
            await io.output.write("stderr", data)
        elif stream == "stdout" and options.stdout:
            await io.output.write("stdout", data)

    async def follow_sizes() -> None:
        async for size in io.sizes():
            with contextlib.suppress(Conflict, InvalidArgument, NotFound):
                await attach.resize(core, container_id, size.height, size.width)

    work = asyncio.ensure_future(
        attach.attach(
            core,
            container_id,
            stdin=io.stdin() if options.stdin else None,
            on_output=on_output,
            detach_keys=None,
        )
    )
    sizing = asyncio.ensure_future(follow_sizes())
    gone = asyncio.ensure_future(io.gone.wait())
    try:
        await asyncio.wait({work, gone}, return_when=asyncio.FIRST_COMPLETED)
        if not work.done():
            work.cancel()
        await work
    except asyncio.CancelledError:
        # Ours (the client went away) ends the attach; the caller's goes on.
        current = asyncio.current_task()
        if not io.gone.is_set() or current is None or current.cancelling():
            raise
    except (Conflict, NotFound) as e:
        return failure(str(e))
    finally:
        sizing.cancel()
        gone.cancel()
    return exit_status(0)
