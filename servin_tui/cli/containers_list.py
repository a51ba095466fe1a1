"""``ps`` (``container ls``): the container listing, docker's words and columns.

Rows carry docker's field names (``ID``, ``Image``, ``Command``,
``RunningFor``, ``Status``, ``Names``...) so that ``--format`` templates
written for docker print the same here. Status reads as docker's does:
``Up 2 seconds``, ``Exited (0) 3 seconds ago``, ``Created``.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from servin_core._dataclass import dataclass, field
from servin_core.errors import InvalidArgument, NotFound
from servin_tui.cli.command import Command, Session
from servin_tui.cli.humanize import go_time, human_age, human_duration
from servin_tui.cli.output import Column, familiar, print_rows

if TYPE_CHECKING:
    from servin_core.containers.model import Container

__all__ = [
    "COMMANDS",
    "Filters",
    "command_text",
    "container_row",
    "image_text",
    "parse_filters",
    "status_text",
]

_COMMAND_WIDTH = 20
_FILTER_KEYS = ("id", "name", "label", "status", "ancestor", "exited", "volume")
_STATUSES = (
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
)
_LABELS = {
    "CreatedAt": "CREATED AT",
    "RunningFor": "CREATED",
    "LocalVolumes": "LOCAL VOLUMES",
}


def status_text(container: Container, now: float | None = None) -> str:
    """docker's STATUS column for ``container`` at ``now``."""
    now = time.time() if now is None else now
    state = str(container.state)
    if state in ("running", "paused"):
        up = human_duration(max(0.0, now - (container.started_at or now)))
        return f"Up {up} (Paused)" if state == "paused" else f"Up {up}"
    if state == "restarting":
        ago = human_age(container.finished_at, now)
        return f"Restarting ({container.exit_code or 0}) {ago}"
    if state == "removing":
        return "Removal In Progress"
    if state == "dead":
        return "Dead"
    if state == "exited":
        if not container.finished_at:
            return ""
        ago = human_age(container.finished_at, now)
        return f"Exited ({container.exit_code or 0}) {ago}"
    return "Created"


def command_text(container: Container, *, no_trunc: bool = False) -> str:
    """The COMMAND column: entrypoint and arguments, quoted, cut to 20 wide."""
    config = container.config
    words = [*(config.entrypoint or []), *(config.cmd or [])]
    text = " ".join(words)
    if not no_trunc and len(text) > _COMMAND_WIDTH - 1:
        text = text[: _COMMAND_WIDTH - 1] + "…"
    return f'"{text}"'


def image_text(container: Container) -> str:
    """The IMAGE column: the name it was created from, as docker shows it;
    an image asked for by ID shows its short ID."""
    name = container.image_name or container.image_id
    if name.startswith("sha256:"):
        return name.removeprefix("sha256:")[:12]
    return familiar(name)


def container_row(
    container: Container,
    *,
    no_trunc: bool = False,
    size: str = "",
    now: float | None = None,
) -> dict[str, Any]:
    """docker's listing row (its JSON field names) for ``container``."""
    mounts = [m.source or m.target for m in container.config.mounts]
    labels = container.config.labels
    return {
        "Command": command_text(container, no_trunc=no_trunc),
        "CreatedAt": go_time(container.created),
        "ID": container.id if no_trunc else container.short_id,
        "Image": image_text(container),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "LocalVolumes": str(sum(m.type == "volume" for m in container.config.mounts)),
        "Mounts": ",".join(mounts),
        "Names": container.name,
        "Networks": "",
        "Ports": "",
        "RunningFor": human_age(container.created, now),
        "Size": size,
        "State": str(container.state),
        "Status": status_text(container, now),
    }


@dataclass
class Filters:
    """``--filter`` values by key: OR within a key, AND across keys."""

    values: dict[str, list[str]] = field(default_factory=dict)
    ancestor_ids: set[str] = field(default_factory=set)
    """Image IDs the ``ancestor`` values resolved to."""
    volume_users: dict[str, set[str]] = field(default_factory=dict)
    """IDs of the containers that mount each ``volume`` value (a volume
    name or a mount point)."""

    def matches(self, container: Container) -> bool:
        return all(
            any(self._match(key, value, container) for value in values)
            for key, values in self.values.items()
        )

    def _match(self, key: str, value: str, container: Container) -> bool:
        import re

        if key == "id":
            return container.id.startswith(value)
        if key == "name":
            return re.search(value, container.name) is not None
        if key == "label":
            name, sep, wanted = value.partition("=")
            labels = container.config.labels
            return name in labels and (not sep or labels[name] == wanted)
        if key == "status":
            return str(container.state) == value
        if key == "volume":
            return container.id in self.volume_users.get(value, ()) or any(
                value in (m.source, m.target) for m in container.config.mounts
            )
        if key == "exited":
            return str(container.state) == "exited" and container.exit_code == int(
                value
            )
        # ancestor: the image by any name, or a container created by that name.
        return (
            container.image_id in self.ancestor_ids
            or container.image_name == value
            or image_text(container) == value
        )


def parse_filters(texts: Iterable[str]) -> Filters:
    """``KEY=VALUE`` texts, checked as docker checks them."""
    import re

    filters = Filters()
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep:
            raise InvalidArgument("filter", text, "expected KEY=VALUE")
        if key not in _FILTER_KEYS:
            raise InvalidArgument(
                "filter",
                text,
                f"unsupported filter {key!r} ({', '.join(_FILTER_KEYS)})",
            )
        if key == "status" and value not in _STATUSES:
            raise InvalidArgument(
                "filter", text, f"status is one of {', '.join(_STATUSES)}"
            )
        if key == "exited" and not value.lstrip("-").isdigit():
            raise InvalidArgument("filter", text, "exited takes an exit code")
        if key == "name":
            try:
                re.compile(value)
            except re.error as e:
                raise InvalidArgument("filter", text, f"bad pattern: {e}") from None
        filters.values.setdefault(key, []).append(value)
    return filters


def _configure_ps(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add(
        "-a", "--all", action="store_true", help="show all containers, not only running"
    )
    add("-q", "--quiet", action="store_true", help="only show container IDs")
    add("-n", "--last", type=int, default=-1, metavar="N", help="the N last created")
    add("-l", "--latest", action="store_true", help="the latest created container")
    add("--no-trunc", action="store_true", help="do not truncate the output")
    add("-s", "--size", action="store_true", help="show the size of each container")
    add(
        "-f",
        "--filter",
        action="append",
        default=[],
        metavar="FILTER",
        help=f"KEY=VALUE, KEY one of {', '.join(_FILTER_KEYS)} (repeatable)",
    )
    add("--format", metavar="FORMAT", help="'json', or a Go template ('table ...')")


async def _run_ps(session: Session, args: argparse.Namespace) -> int:
    from servin_core.network.describe import network_columns, networkless_mode
    from servin_tui.cli.containers_state import refreshed

    filters = parse_filters(args.filter)
    core = session.core()
    for name in filters.values.get("ancestor", []):
        # An unknown image still matches containers created by that name.
        with contextlib.suppress(NotFound, InvalidArgument):
            filters.ancestor_ids.add(core.images.resolve(name).id)

    for value in filters.values.get("volume", []):
        users = core.db.query(
            "SELECT container_id FROM container_volumes WHERE volume = ? OR target = ?",
            (value, value),
        )
        filters.volume_users[value] = {row[0] for row in users}

    containers = refreshed(core, core.containers.list())
    containers.sort(key=lambda c: c.created, reverse=True)
    last = 1 if args.latest else args.last
    if last >= 0:
        containers = containers[:last]
    elif not args.all and "status" not in filters.values:
        containers = [c for c in containers if c.state.is_active]
    containers = [c for c in containers if filters.matches(c)]

    if args.quiet:
        for container in containers:
            session.out(container.id if args.no_trunc else container.short_id)
        return 0

    now = time.time()
    rows = [
        container_row(
            c, no_trunc=args.no_trunc, size=_size(core, c) if args.size else "", now=now
        )
        for c in containers
    ]
    networks = network_columns(core)
    for row, c in zip(rows, containers, strict=True):
        row["Ports"], row["Networks"] = networks.get(c.id, ("", networkless_mode(c)))
    columns: list[Column] = [
        ("ID", "CONTAINER ID"),
        ("Image", "IMAGE"),
        ("Command", "COMMAND"),
        ("RunningFor", "CREATED"),
        ("Status", "STATUS"),
        ("Ports", "PORTS"),
        ("Names", "NAMES"),
    ]
    if args.size:
        columns.append(("Size", "SIZE"))
    print_rows(session.stdout, rows, columns, args.format, _LABELS)
    return 0


def _size(core: Any, container: Container) -> str:
    """docker's SIZE: what the container wrote, and its image's size."""
    from servin_tui.cli.containers_state import written_bytes
    from servin_tui.cli.humanize import human_size

    written = written_bytes(core, container)
    try:
        image_size = core.images.get(container.image_id).size
    except NotFound:  # the image went away with --force: show what is known
        image_size = 0
    return f"{human_size(written)} (virtual {human_size(written + image_size)})"


COMMANDS = [Command("ps", (), "list containers", _configure_ps, _run_ps)]
