"""The rest of the Engine API's container surface through real clients:
``docker export``, ``docker system df``, ``docker events`` filters, archive
HEAD (the stat ``docker cp`` asks first) and ``wait?condition=removed``."""

from __future__ import annotations

import base64
import json
import tarfile
import time
from pathlib import Path

from api_daemon import Daemon, PendingWait


def test_docker_export_writes_the_file_system_to_a_file(
    daemon: Daemon, busybox: str, tmp_path: Path
) -> None:
    daemon.docker_ok(
        "run", "--name", "shipped", busybox, "sh", "-c", "echo x > /marker"
    )
    out = tmp_path / "shipped.tar"

    exported = daemon.docker("export", "-o", str(out), "shipped")
    missing = daemon.docker("export", "-o", str(tmp_path / "no.tar"), "nobody")

    assert exported.returncode == 0, exported.stderr
    with tarfile.open(out) as tar:
        names = {name.removeprefix("./") for name in tar.getnames()}
        marker = tar.extractfile(
            next(m for m in tar if m.name in ("marker", "./marker"))
        )
        assert marker is not None and marker.read() == b"x\n"
    assert {"marker", "bin/busybox", "etc"} <= names
    assert missing.returncode != 0
    assert "No such container: nobody" in missing.stderr


def test_system_df_counts_images_and_containers(daemon: Daemon, busybox: str) -> None:
    daemon.docker_ok("create", busybox, "true")
    daemon.docker_ok("run", "-d", busybox, "sleep", "300")

    shown = daemon.docker_ok(
        "system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"
    )

    rows = {line.split()[0]: line.split()[1:] for line in shown.splitlines()}
    assert rows["Images"] == ["1", "1"]
    assert rows["Containers"] == ["2", "1"]


def test_events_filters_by_container_event_and_label(
    daemon: Daemon, busybox: str
) -> None:
    since = str(int(time.time()) - 1)
    daemon.docker_ok("run", "--name", "tagged", "--label", "team=blue", busybox, "true")
    daemon.docker_ok("run", "--name", "other", busybox, "true")
    until = str(int(time.time()) + 1)
    window = ("--since", since, "--until", until)
    shape = ("--format", "{{.Action}} {{.Actor.Attributes.name}}")

    dies = daemon.docker_ok("events", *window, "--filter", "event=die", *shape)
    tagged = daemon.docker_ok("events", *window, "--filter", "container=tagged", *shape)
    blue = daemon.docker_ok("events", *window, "--filter", "label=team=blue", *shape)

    assert sorted(dies.splitlines()) == ["die other", "die tagged"]
    assert {line.split()[1] for line in tagged.splitlines()} == {"tagged"}
    assert "start tagged" in tagged.splitlines()
    assert blue.splitlines() and all(
        line.endswith(" tagged") for line in blue.splitlines()
    )


def test_archive_head_gives_the_paths_stat_and_no_body(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok(
        "run", "-d", busybox, "sh", "-c", "printf 12345 > /tmp/five; sleep 300"
    ).strip()
    daemon.docker_ok("exec", ident, "test", "-f", "/tmp/five")

    head = daemon.request("HEAD", f"/v1.50/containers/{ident}/archive?path=/tmp/five")
    missing = daemon.request(
        "HEAD", f"/v1.50/containers/{ident}/archive?path=/tmp/none"
    )

    stat = json.loads(base64.b64decode(head.headers["x-docker-container-path-stat"]))
    assert head.status == 200
    assert head.body == b""
    assert stat["name"] == "five"
    assert stat["size"] == 5
    assert missing.status == 404


def test_wait_for_removal_answers_once_the_container_is_gone(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok("run", "-d", busybox, "sleep", "300").strip()

    # The wait is asked for, and its headers are out, before the removal.
    waiting = PendingWait(daemon.socket, ident, "removed")
    daemon.docker_ok("rm", "-f", ident)
    body = waiting.body()

    assert waiting.head.startswith(b"HTTP/1.1 200")
    assert b'"StatusCode": 137' in body
    assert daemon.docker_ok("ps", "-aq") == ""


def test_container_prune_removes_only_what_its_filters_name(
    daemon: Daemon, busybox: str
) -> None:
    red = daemon.docker_ok("run", "--label", "team=red", busybox, "true").strip()
    daemon.docker_ok("run", "--name", "blue", "--label", "team=blue", busybox, "true")
    running = daemon.docker_ok(
        "run", "-d", "--label", "team=red", busybox, "sleep", "300"
    )

    recent = daemon.docker_ok("container", "prune", "-f", "--filter", "until=1h")
    by_label = daemon.docker_ok(
        "container", "prune", "-f", "--filter", "label=team=red"
    )
    left = daemon.docker_ok("ps", "-a", "--format", "{{.Names}} {{.ID}}")
    unknown = daemon.docker("container", "prune", "-f", "--filter", "dangling=true")
    remaining = daemon.docker_ok("container", "prune", "-f")

    assert "Total reclaimed space" in recent and len(left.splitlines()) == 2
    assert red in by_label
    assert "blue" in left and running[:12] in left
    assert unknown.returncode != 0 and "dangling" in unknown.stderr
    assert "blue" not in daemon.docker_ok("ps", "-a", "--format", "{{.Names}}")
    assert daemon.docker_ok("ps", "-q") == running[:12] + "\n"
    assert remaining.strip()
