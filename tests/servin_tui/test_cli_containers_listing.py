"""What ``ps`` prints for containers in each state, and how its filters
select them: docker's words, computed from stored containers."""

from __future__ import annotations

import pytest

from servin_core.containers.model import Container, ContainerConfig, State
from servin_core.errors import InvalidArgument
from servin_tui.cli.containers_list import (
    command_text,
    container_row,
    parse_filters,
    status_text,
)

NOW = 1_700_000_000.0


def container(
    state: State = State.CREATED,
    *,
    name: str = "web",
    cmd: list[str] | None = None,
    entrypoint: list[str] | None = None,
    labels: dict[str, str] | None = None,
    exit_code: int | None = None,
    started: float | None = None,
    finished: float | None = None,
    image_name: str = "docker.io/library/busybox:latest",
) -> Container:
    return Container(
        id="0123456789ab" + "c" * 52,
        name=name,
        image_id="sha256:" + "e" * 64,
        image_name=image_name,
        created=NOW - 600,
        config=ContainerConfig(
            image="busybox", cmd=cmd, entrypoint=entrypoint, labels=labels or {}
        ),
        lowers=(),
        runtime="runc",
        state=state,
        exit_code=exit_code,
        started_at=started,
        finished_at=finished,
    )


def test_status_reads_as_docker_writes_it() -> None:
    assert status_text(container(State.CREATED), NOW) == "Created"
    assert status_text(container(State.RUNNING, started=NOW - 2), NOW) == (
        "Up 2 seconds"
    )
    assert status_text(container(State.RUNNING, started=NOW), NOW) == (
        "Up Less than a second"
    )
    assert status_text(container(State.PAUSED, started=NOW - 90), NOW) == (
        "Up About a minute (Paused)"
    )
    exited = container(State.EXITED, exit_code=0, finished=NOW - 3)
    assert status_text(exited, NOW) == "Exited (0) 3 seconds ago"
    killed = container(State.EXITED, exit_code=137, finished=NOW - 7200)
    assert status_text(killed, NOW) == "Exited (137) 2 hours ago"
    assert status_text(container(State.DEAD), NOW) == "Dead"
    assert status_text(container(State.REMOVING), NOW) == "Removal In Progress"


def test_command_is_quoted_and_cut_to_docker_width() -> None:
    short = container(cmd=["sleep", "10"])
    long = container(entrypoint=["/bin/sh", "-c"], cmd=["echo hello; sleep 1000"])

    assert command_text(short) == '"sleep 10"'
    assert command_text(long) == '"/bin/sh -c echo hel…"'
    assert command_text(long, no_trunc=True) == '"/bin/sh -c echo hello; sleep 1000"'


def test_row_has_docker_field_names_and_values() -> None:
    row = container_row(
        container(State.RUNNING, started=NOW - 5, labels={"b": "2", "a": "1"}),
        now=NOW,
    )

    assert row["ID"] == "0123456789ab"
    assert row["Image"] == "busybox:latest"
    assert row["Names"] == "web"
    assert row["State"] == "running"
    assert row["Status"] == "Up 5 seconds"
    assert row["RunningFor"] == "10 minutes ago"
    assert row["Labels"] == "a=1,b=2"
    assert set(row) >= {"Command", "CreatedAt", "Ports", "Mounts", "Networks", "Size"}


def test_image_given_by_id_shows_the_short_id() -> None:
    row = container_row(container(image_name="sha256:" + "f" * 64), now=NOW)

    assert row["Image"] == "f" * 12


def test_filters_or_within_a_key_and_across_keys() -> None:
    web = container(State.RUNNING, name="web-1", labels={"tier": "front"})
    db = container(State.EXITED, name="db", labels={"tier": "back"}, exit_code=3)

    by_name = parse_filters(["name=web"])
    by_status = parse_filters(["status=running", "status=exited"])
    both = parse_filters(["label=tier=back", "exited=3"])
    neither = parse_filters(["label=tier", "exited=0"])

    assert [by_name.matches(c) for c in (web, db)] == [True, False]
    assert [by_status.matches(c) for c in (web, db)] == [True, True]
    assert [both.matches(c) for c in (web, db)] == [False, True]
    assert [neither.matches(c) for c in (web, db)] == [False, False]
    assert parse_filters(["id=0123"]).matches(web)
    assert parse_filters(["ancestor=busybox:latest"]).matches(web)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("status", "expected KEY=VALUE"),
        ("colour=red", "unsupported filter 'colour'"),
        ("status=sleeping", "status is one of"),
        ("exited=yes", "exited takes an exit code"),
        ("name=(", "bad pattern"),
    ],
)
def test_bad_filters_are_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        parse_filters([text])
