"""The processes of a running container, as the host's ``ps`` shows them
(docker's ``top``).

The OCI runtime knows which processes are the container's (``runc ps``
reads its cgroup); the host's ``ps`` describes them, with whatever options
the user gave (``-ef`` by default, as docker). Its rows are kept for the
container's PIDs only, found by the ``PID`` column of its header.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from typing import TYPE_CHECKING

from servin_core._dataclass import dataclass
from servin_core.containers.model import State
from servin_core.containers.reconcile import refresh
from servin_core.containers.runtime import runtime_of
from servin_core.errors import Conflict, InvalidArgument, Unavailable

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["DEFAULT_PS_ARGS", "ProcessTable", "top"]

DEFAULT_PS_ARGS = ("-ef",)


@dataclass(frozen=True)
class ProcessTable:
    titles: list[str]
    processes: list[list[str]]


async def top(
    core: Core, text: str, ps_args: tuple[str, ...] | list[str] = ()
) -> ProcessTable:
    """``ps ps_args`` (default ``-ef``) limited to the container's processes;
    Conflict unless it is running or paused."""
    container = await asyncio.to_thread(refresh, core, core.containers.resolve(text))
    if container.state not in (State.RUNNING, State.PAUSED):
        raise Conflict("container", container.name, "is not running")

    runtime = runtime_of(core.config, container)
    listed = await runtime.run(container.id, "ps", "--format", "json", container.id)
    try:
        pids = {int(pid) for pid in json.loads(listed) or []}
    except (ValueError, TypeError) as e:
        raise Unavailable(
            "container", container.name, f"{runtime.name} ps said {listed!r}"
        ) from e

    args = list(ps_args) or list(DEFAULT_PS_ARGS)
    process = await asyncio.create_subprocess_exec(
        "ps",
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        message = " ".join(err.decode(errors="replace").split())
        raise InvalidArgument("container", container.name, f"ps failed: {message}")
    return _table(out.decode(errors="replace"), pids, container.name)


def _table(output: str, pids: set[int], name: str) -> ProcessTable:
    lines = output.splitlines()
    if not lines:
        raise InvalidArgument("container", name, "ps printed nothing")
    titles = lines[0].split()
    if "PID" not in titles:
        raise InvalidArgument("container", name, "ps output has no PID column")
    column = titles.index("PID")

    processes = []
    for line in lines[1:]:
        # The last column (the command) may hold spaces.
        fields = line.split(None, len(titles) - 1)
        if len(fields) <= column:
            continue
        try:
            pid = int(fields[column])
        except ValueError as e:
            raise InvalidArgument(
                "container", name, f"ps printed a PID that is not a number: {line}"
            ) from e
        if pid in pids:
            processes.append(fields)
    return ProcessTable(titles, processes)
