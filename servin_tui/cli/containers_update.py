"""``update``: new resource limits or restart policy for containers.

As docker's: each container is updated in turn and its name printed once
done; one that fails prints ``Error: ...`` and the others are still
updated, and the command exits 1. A running container's cgroup changes at
once; a stopped one gets the limits at its next start.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from servin_core.errors import ServinError
from servin_tui.cli.command import Command, Runner, Session

if TYPE_CHECKING:
    from servin_core.containers.update import ResourceChange

__all__ = ["COMMANDS", "UPDATE"]


def _configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("-m", "--memory", metavar="BYTES", help="memory limit (such as 64m)")
    add("--memory-swap", metavar="BYTES", help="memory plus swap; -1: unlimited swap")
    add("--memory-reservation", metavar="BYTES", help="soft memory limit")
    add("--cpus", metavar="N", help="number of CPUs (such as 0.5)")
    add("-c", "--cpu-shares", type=int, metavar="N", help="relative CPU weight")
    add("--cpu-quota", type=int, metavar="US", help="CPU microseconds per period")
    add("--cpu-period", type=int, metavar="US", help="CFS period in microseconds")
    add("--cpuset-cpus", metavar="LIST", help="CPUs to run on (0-3, 0,1)")
    add("--cpuset-mems", metavar="LIST", help="memory nodes to use (0-3, 0,1)")
    add("--pids-limit", type=int, metavar="N", help="process limit; -1: unlimited")
    add("--blkio-weight", type=int, metavar="N", help="block I/O weight, 10 to 1000")
    add("--restart", metavar="POLICY", help="no, always, on-failure[:N], ...")
    parser.add_argument("containers", nargs="+", metavar="CONTAINER")


def _change(args: argparse.Namespace) -> ResourceChange:
    from servin_core.containers.model import parse_restart_policy
    from servin_core.containers.resources import parse_bytes, parse_cpus
    from servin_core.containers.update import ResourceChange

    def size(text: str | None) -> int | None:
        if text is None:
            return None
        return -1 if text.strip() == "-1" else parse_bytes(text)

    return ResourceChange(
        memory=size(args.memory),
        memory_swap=size(args.memory_swap),
        memory_reservation=size(args.memory_reservation),
        nano_cpus=parse_cpus(args.cpus) if args.cpus is not None else None,
        cpu_shares=args.cpu_shares,
        cpu_quota=args.cpu_quota,
        cpu_period=args.cpu_period,
        cpuset_cpus=args.cpuset_cpus,
        cpuset_mems=args.cpuset_mems,
        pids_limit=args.pids_limit,
        blkio_weight=args.blkio_weight,
        restart=parse_restart_policy(args.restart) if args.restart else None,
    )


async def _run(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.lifecycle import update

    try:
        change = _change(args)
    except ServinError as e:
        session.warn(f"Error: {e}")
        return 1
    if change.is_empty():
        session.warn("Error: nothing to update: give a limit or --restart")
        return 1

    core = session.core()
    return await session.each(args.containers, lambda name: update(core, name, change))


_RUN: Runner = _run
UPDATE = Command(
    "update",
    (),
    "change containers' limits or restart policy",
    _configure,
    _RUN,
)
COMMANDS = [UPDATE]
