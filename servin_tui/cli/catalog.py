"""Which commands exist, where each lives, and its one-line help, without
importing any of them.

Every command run pays for what ``main`` imports before it can parse the
command line, so the parser is built from this table: the names and help
lines cost nothing, and only the chosen command's module is imported (see
parser.py). The modules' ``COMMANDS`` lists stay what defines a command;
tests/servin_tui/test_cli_catalog.py checks that this table names every one
of them with the same help, and :func:`discover` finds a command registered
in a module but missing here, at the old cost, so a new command works even
before it is listed.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Literal

from servin_core._dataclass import dataclass
from servin_tui.cli.command import Command

__all__ = [
    "CONTAINER_GROUP",
    "IMAGE_GROUP",
    "NETWORK_GROUP",
    "TOP_LEVEL",
    "VOLUME_GROUP",
    "Entry",
    "Group",
    "discover",
    "load",
    "registered",
]

Group = Literal["top", "container", "image", "volume", "network"]
_PACKAGE = "servin_tui.cli"


@dataclass(frozen=True, slots=True, eq=False)
class Entry:
    """A command as the parser lists it: names (first one shown, the rest
    aliases), the module that defines it and its help line."""

    names: tuple[str, ...]
    module: str
    """Module name under servin_tui.cli."""
    help: str
    key: str = ""
    """The name of a module attribute holding the command, or its ``name``
    in the module's COMMANDS (in the ``image`` group: its first image
    name); empty: the first of ``names``."""


def _e(names: str, module: str, help: str, key: str = "") -> Entry:
    return Entry(tuple(names.split()), module, help, key)


TOP_LEVEL: tuple[Entry, ...] = (
    _e("run", "containers_run", "create and start a container, show its output"),
    _e("create", "containers_run", "create a container, print its ID"),
    _e("start", "containers_lifecycle", "start containers"),
    _e("stop", "containers_lifecycle", "stop running containers"),
    _e("restart", "containers_lifecycle", "restart containers"),
    _e("kill", "containers_lifecycle", "send a signal to containers"),
    _e("rm", "containers_lifecycle", "remove containers"),
    _e("ps", "containers_list", "list containers"),
    _e("logs", "containers_logs", "print a container's output"),
    _e("wait", "containers_lifecycle", "wait for containers to stop, print exit codes"),
    _e("pause", "containers_lifecycle", "pause all processes of containers"),
    _e("unpause", "containers_lifecycle", "resume paused containers"),
    _e("rename", "containers_lifecycle", "rename a container"),
    _e("update", "containers_update", "change containers' limits or restart policy"),
    _e("exec", "containers_exec", "run a command in a running container"),
    _e(
        "attach",
        "containers_attach",
        "attach to a running container's input and output",
    ),
    _e("top", "containers_exec", "show a container's processes"),
    _e("diff", "containers_exec", "show what a container changed in its file system"),
    _e("stats", "containers_stats", "show a live stream of containers' resource usage"),
    _e("cp", "containers_copy", "copy files between a container and the host"),
    _e("commit", "containers_commit", "create a new image from a container's changes"),
    _e("images", "images", "list images"),
    _e("pull", "transfer", "download an image"),
    _e("push", "transfer", "upload an image"),
    _e("tag", "images", "add a name to an image"),
    _e("rmi", "remove", "remove images"),
    _e(
        "inspect",
        "containers_inspect",
        "show details of containers or images as JSON",
    ),
    _e("history", "inspect", "show the history of an image"),
    _e("port", "networks", "list a container's published ports"),
    _e("login", "login", "log in to a registry"),
    _e("logout", "login", "log out of a registry"),
    _e("save", "archive", "write images to a tar archive"),
    _e("load", "archive", "read images from a tar archive"),
    _e("import", "importer", "create an image from a root filesystem tarball"),
)
"""Top-level commands, in the order ``--help`` lists them."""

CONTAINER_GROUP: tuple[Entry, ...] = (
    _e("run", "containers_run", "create and start a container, show its output"),
    _e("create", "containers_run", "create a container, print its ID"),
    _e("ls list ps", "containers_list", "list containers", "ps"),
    _e("start", "containers_lifecycle", "start containers"),
    _e("stop", "containers_lifecycle", "stop running containers"),
    _e("restart", "containers_lifecycle", "restart containers"),
    _e("kill", "containers_lifecycle", "send a signal to containers"),
    _e("rm remove", "containers_lifecycle", "remove containers", "rm"),
    _e("pause", "containers_lifecycle", "pause all processes of containers"),
    _e("unpause", "containers_lifecycle", "resume paused containers"),
    _e("wait", "containers_lifecycle", "wait for containers to stop, print exit codes"),
    _e("rename", "containers_lifecycle", "rename a container"),
    _e("update", "containers_update", "change containers' limits or restart policy"),
    _e("logs", "containers_logs", "print a container's output"),
    _e("exec", "containers_exec", "run a command in a running container"),
    _e(
        "attach",
        "containers_attach",
        "attach to a running container's input and output",
    ),
    _e("top", "containers_exec", "show a container's processes"),
    _e("diff", "containers_exec", "show what a container changed in its file system"),
    _e("stats", "containers_stats", "show a live stream of containers' resource usage"),
    _e("cp", "containers_copy", "copy files between a container and the host"),
    _e("commit", "containers_commit", "create a new image from a container's changes"),
    _e(
        "inspect",
        "containers_inspect",
        "show details of containers as JSON",
        "CONTAINER_INSPECT",
    ),
    _e("prune", "containers_lifecycle", "remove all stopped containers", "PRUNE"),
)
"""``container`` COMMAND: docker's names for the container commands."""

IMAGE_GROUP: tuple[Entry, ...] = (
    _e("ls list", "images", "list images"),
    _e("tag", "images", "add a name to an image"),
    _e("pull", "transfer", "download an image"),
    _e("push", "transfer", "upload an image"),
    _e("inspect", "inspect", "show details of images as JSON"),
    _e("history", "inspect", "show the history of an image"),
    _e("rm remove", "remove", "remove images"),
    _e("prune", "remove", "remove unused images"),
    _e("save", "archive", "write images to a tar archive"),
    _e("load", "archive", "read images from a tar archive"),
    _e("import", "importer", "create an image from a root filesystem tarball"),
)
"""``image`` COMMAND, looked up by the commands' ``image_names``."""

VOLUME_GROUP: tuple[Entry, ...] = (
    _e("create", "volumes", "create a volume", "CREATE"),
    _e("ls list", "volumes_list", "list volumes", "LS"),
    _e("inspect", "volumes", "show details of volumes as JSON", "INSPECT"),
    _e("rm remove", "volumes", "remove volumes", "RM"),
    _e("prune", "volumes", "remove unused volumes", "PRUNE"),
)
"""``volume`` COMMAND: docker's volume commands."""

NETWORK_GROUP: tuple[Entry, ...] = (
    _e("create", "networks", "create a network", "CREATE"),
    _e("ls list", "networks_list", "list networks", "LS"),
    _e("inspect", "networks", "show details of networks as JSON", "INSPECT"),
    _e("rm remove", "networks", "remove networks", "RM"),
    _e("prune", "networks", "remove unused networks", "PRUNE"),
    _e("connect", "networks", "connect a container to a network", "CONNECT"),
    _e(
        "disconnect",
        "networks",
        "disconnect a container from a network",
        "DISCONNECT",
    ),
)
"""``network`` COMMAND: docker's network commands."""

_IMAGE_MODULES: tuple[str, ...] = (
    *("images", "transfer", "login", "inspect", "remove", "archive", "importer"),
)


def load(entry: Entry, group: Group) -> Command:
    """Import the entry's module and return its command."""
    module = importlib.import_module(f"{_PACKAGE}.{entry.module}")
    key = entry.key or entry.names[0]
    found = getattr(module, key, None)
    if isinstance(found, Command):
        return found
    commands: list[Command] = module.COMMANDS
    for command in commands:
        if group == "image" and key in command.image_names:
            return command
        if group != "image" and command.name == key:
            return command
    raise LookupError(f"{_PACKAGE}.{entry.module} has no command {key!r}")


def registered(group: Group) -> Iterator[tuple[tuple[str, ...], Command]]:
    """Every command the modules define for ``group``, with its names: the
    full, slow list, for tests and for :func:`discover`."""
    from servin_tui.cli import containers

    if group == "volume":
        from servin_tui.cli import volumes

        yield from volumes.GROUP
        return
    if group == "network":
        from servin_tui.cli import networks

        yield from networks.GROUP
        return
    image_commands = [
        command
        for name in _IMAGE_MODULES
        for command in importlib.import_module(f"{_PACKAGE}.{name}").COMMANDS
    ]
    if group == "container":
        yield from containers.GROUP
    elif group == "image":
        for command in image_commands:
            if command.image_names:
                yield command.image_names, command
    else:
        # containers' ``inspect`` tries containers, then images.
        from servin_tui.cli import networks

        top = [*image_commands, *containers.COMMANDS, *networks.COMMANDS]
        for command in top:
            if command.name and not (
                command.name == "inspect" and command in image_commands
            ):
                yield (command.name,), command


def discover(name: str, group: Group) -> tuple[tuple[str, ...], Command] | None:
    """A command registered in a module but not listed here, or None."""
    for names, command in registered(group):
        if name in names:
            return names, command
    return None
