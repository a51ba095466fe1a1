"""Table rows for images, containers and events, in docker's words.

A row is a key (stable across updates, so the table can change one row in
place) and the text of each cell. Ages are computed against a clock the app
is given, so that tests can fix "now" and screenshots stay the same.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from servin_core._dataclass import dataclass
from servin_core.containers.model import Container, State
from servin_core.events import Event
from servin_core.images.reference import parse_reference
from servin_core.images.store import Image
from servin_tui.cli.humanize import human_age, human_duration, human_size, parse_time

__all__ = [
    "Clock",
    "Row",
    "container_row",
    "container_status",
    "event_row",
    "image_rows",
]

Clock = Callable[[], float]
"""Returns the current Unix time; ``time.time`` outside tests."""

_NONE = "<none>"


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    owner: str
    """The object's full ID: several rows may share it (an image's names)."""
    cells: tuple[str, ...]
    sort_keys: tuple[Any, ...] = ()
    """Per cell, what sorting compares (bytes for a size); the text if absent."""


def image_rows(image: Image, now: float | None = None) -> list[Row]:
    """One row per name of ``image``, as ``docker images`` lists them:
    REPOSITORY TAG IMAGE ID CREATED SIZE."""
    now = time.time() if now is None else now
    names: list[tuple[str, str]] = []
    for name in sorted(image.tags):
        ref = parse_reference(name)
        names.append((ref.familiar_repository(), ref.tag or _NONE))
    tagged = {repository for repository, _ in names}
    for name in sorted(image.repo_digests):
        ref = parse_reference(name, default_tag=False)
        repository = ref.familiar_repository()
        if repository not in tagged:
            tagged.add(repository)
            names.append((repository, _NONE))
    if not names:
        names.append((_NONE, _NONE))

    created = parse_time(image.created)
    when = created if created is not None else image.added_at
    age = human_age(when, now)
    size = human_size(image.size)
    return [
        Row(
            f"{image.id} {repository}:{tag}",
            image.id,
            (repository, tag, image.short_id, age, size),
            (repository, tag, image.short_id, when, image.size),
        )
        for repository, tag in names
    ]


def container_status(container: Container, now: float) -> str:
    """docker's STATUS words: ``Up 2 minutes``, ``Exited (0) 3 seconds ago``."""
    state = container.state
    if state is State.RUNNING and container.started_at:
        return f"Up {human_duration(now - container.started_at)}"
    if state is State.PAUSED and container.started_at:
        return f"Up {human_duration(now - container.started_at)} (Paused)"
    if state is State.EXITED and container.finished_at:
        code = container.exit_code if container.exit_code is not None else 0
        ago = human_age(container.finished_at, now)
        return f"Exited ({code}) {ago}"
    if state is State.RESTARTING:
        code = container.exit_code if container.exit_code is not None else 0
        return f"Restarting ({code})"
    return state.value.capitalize()


def container_row(container: Container, now: float | None = None) -> Row:
    """CONTAINER ID IMAGE COMMAND CREATED STATUS NAMES."""
    now = time.time() if now is None else now
    config = container.config
    command = " ".join([*(config.entrypoint or []), *(config.cmd or [])])
    if len(command) > 20:
        command = command[:19] + "…"
    return Row(
        container.id,
        container.id,
        (
            container.short_id,
            container.image_name,
            f'"{command}"' if command else "",
            human_age(container.created, now),
            container_status(container, now),
            container.name,
        ),
        (None, None, None, container.created, None, None),
    )


def event_row(event: Event) -> Row:
    """TIME TYPE ACTION OBJECT DETAILS; the time is the local wall clock."""
    moment = time.strftime("%H:%M:%S", time.localtime(event.time))
    actor = event.actor_id.removeprefix("sha256:")[:12]
    details = " ".join(f"{k}={v}" for k, v in sorted(event.attributes.items()))
    return Row(
        str(event.seq),
        event.actor_id,
        (moment, event.type, event.action, actor, details),
        (event.seq,),
    )
