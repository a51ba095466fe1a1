"""``stats``: live resource usage of containers, in docker's table.

Each refresh samples every container twice, a second apart, for the CPU
share. On a terminal the screen is redrawn each time, as docker does;
otherwise successive tables are printed, so a pipe sees every refresh.
``--no-stream`` prints one table and returns.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from servin_tui.cli.command import Command, Session
from servin_tui.cli.output import Column, print_rows

if TYPE_CHECKING:
    from servin_core.containers.model import Container
    from servin_core.containers.stats import Stats
    from servin_core.core import Core

__all__ = ["COMMANDS", "binary_size", "stats_row"]

_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")
_CLEAR_SCREEN = "\033[2J\033[H"

COLUMNS: list[Column] = [
    ("ID", "CONTAINER ID"),
    ("Name", "NAME"),
    ("CPUPerc", "CPU %"),
    ("MemUsage", "MEM USAGE / LIMIT"),
    ("MemPerc", "MEM %"),
    ("NetIO", "NET I/O"),
    ("BlockIO", "BLOCK I/O"),
    ("PIDs", "PIDS"),
]
_LABELS = {"Container": "CONTAINER"}


def binary_size(size: float) -> str:
    """docker's memory sizes: binary units, four significant digits."""
    value = float(size)
    unit = 0
    while value >= 1024 and unit < len(_BINARY_UNITS) - 1:
        value /= 1024
        unit += 1
    return f"{value:.4g}{_BINARY_UNITS[unit]}"


def stats_row(stats: Stats, given: str) -> dict[str, Any]:
    """One container's row, with docker's field names for ``--format``."""
    from servin_tui.cli.humanize import human_size

    return {
        "Container": given,
        "ID": stats.id[:12],
        "Name": stats.name,
        "CPUPerc": f"{stats.cpu_percent:.2f}%",
        "MemUsage": (
            f"{binary_size(stats.memory_usage)} / {binary_size(stats.memory_limit)}"
        ),
        "MemPerc": f"{stats.memory_percent:.2f}%",
        "NetIO": f"{human_size(stats.net_received)} / {human_size(stats.net_sent)}",
        "BlockIO": (
            f"{human_size(stats.block_read)} / {human_size(stats.block_written)}"
        ),
        "PIDs": str(stats.pids),
    }


def _configure(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "-a", "--all", action="store_true", help="show all containers, not only running"
    )
    add("--no-stream", action="store_true", help="print one table and exit")
    add("--no-trunc", action="store_true", help="do not truncate the output")
    add("--format", metavar="FORMAT", help="'json', or a Go template ('table ...')")
    add("containers", nargs="*", metavar="CONTAINER")


def _targets(core: Core, args: argparse.Namespace) -> list[tuple[Container, str]]:
    """The containers to show, each with the text that named it."""
    from servin_tui.cli.containers_state import refreshed

    if args.containers:
        named = [core.containers.resolve(text) for text in args.containers]
        return list(zip(refreshed(core, named), args.containers, strict=True))
    listed = refreshed(core, core.containers.list())
    listed.sort(key=lambda c: c.created, reverse=True)
    return [(c, c.short_id) for c in listed if args.all or c.state.is_active]


async def _run(session: Session, args: argparse.Namespace) -> int:
    from servin_core.containers.stats import stats

    core = session.core()
    redraw = not args.no_stream and session.stdout_is_terminal()
    while True:
        targets = _targets(core, args)
        rows = await stats(core, [container for container, _ in targets])
        lines = [
            stats_row(row, given) for row, (_, given) in zip(rows, targets, strict=True)
        ]
        if args.no_trunc:
            for line, row in zip(lines, rows, strict=True):
                line["ID"] = row.id
        if redraw:
            session.stdout.write(_CLEAR_SCREEN)
        print_rows(session.stdout, lines, COLUMNS, args.format, _LABELS)
        session.stdout.flush()
        if args.no_stream:
            return 0


COMMANDS = [
    Command(
        "stats",
        (),
        "show a live stream of containers' resource usage",
        _configure,
        _run,
    ),
]
