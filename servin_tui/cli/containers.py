"""The container commands, as ``main`` registers them.

Top-level names are docker's (``run``, ``ps``, ``rm``...); the same commands
sit under ``container`` with docker's names there (``ls``, ``list`` and
``ps`` for the listing, ``rm`` and ``remove``), plus ``container prune`` and
``container inspect``, which inspects containers only.
"""

from __future__ import annotations

from servin_tui.cli import (
    containers_attach,
    containers_commit,
    containers_copy,
    containers_exec,
    containers_inspect,
    containers_lifecycle,
    containers_list,
    containers_logs,
    containers_run,
    containers_stats,
    containers_update,
)
from servin_tui.cli.command import Command

__all__ = ["COMMANDS", "GROUP"]

COMMANDS: list[Command] = [
    *containers_run.COMMANDS,
    *containers_list.COMMANDS,
    *containers_lifecycle.COMMANDS,
    *containers_logs.COMMANDS,
    *containers_inspect.COMMANDS,
    *containers_stats.COMMANDS,
    *containers_copy.COMMANDS,
    *containers_commit.COMMANDS,
    *containers_exec.COMMANDS,
    *containers_attach.COMMANDS,
    *containers_update.COMMANDS,
]
"""Registered at the top level under their names."""

_ALIASES = {"ps": ("ls", "list", "ps"), "rm": ("rm", "remove")}

GROUP: list[tuple[tuple[str, ...], Command]] = [
    *[
        (_ALIASES.get(command.name, (command.name,)), command)
        for command in COMMANDS
        if command.name and command.name != "inspect"
    ],
    (("inspect",), containers_inspect.CONTAINER_INSPECT),
    (("prune",), containers_lifecycle.PRUNE),
]
"""Registered under ``container``: (name and aliases, command)."""
