"""ExecSync: a command in a running container, its output and exit code.

kubelet runs exec probes this way, with a timeout: a command still running
when it expires is ended (the runtime passes the signal on) and the call
fails with DEADLINE_EXCEEDED. Output beyond 16 MiB per stream is cut, as
the CRI allows.
"""

from __future__ import annotations

import asyncio
import tempfile

from servin_core.containers import lifecycle
from servin_core.containers.exec import ExecFailed
from servin_core.errors import InvalidArgument
from servin_cri.container_create import member_or_not_found
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = ["exec_sync"]

_OUTPUT_LIMIT = 16 << 20


async def exec_sync(node: Node, request: pb.ExecSyncRequest) -> pb.ExecSyncResponse:
    member_or_not_found(node, request.container_id)
    if not request.cmd:
        raise InvalidArgument("container", request.container_id, "no command given")
    cmd = list(request.cmd)

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        run = lifecycle.exec_(
            node.core,
            request.container_id,
            cmd,
            stdout=out.fileno(),
            stderr=err.fileno(),
        )
        try:
            if request.timeout > 0:
                code = await asyncio.wait_for(run, request.timeout)
            else:
                code = await run
        except TimeoutError:
            raise TimeoutError(
                f"container {request.container_id}: {cmd} did not finish within "
                f"{request.timeout}s"
            ) from None
        except ExecFailed as e:
            # The command could not be run at all: kubelet's probes read the
            # status (126, 127) and the runtime's words, as from a shell.
            code = e.status
            err.write(e.reason.encode() + b"\n")
        out.seek(0)
        err.seek(0)
        return pb.ExecSyncResponse(
            stdout=out.read(_OUTPUT_LIMIT),
            stderr=err.read(_OUTPUT_LIMIT),
            exit_code=code,
        )
