"""Container endpoints beyond run: filters in both forms, the lifecycle
verbs, wait's early headers, top, changes, export, prune."""

from __future__ import annotations

import io
import json
import tarfile
from urllib.parse import quote

from api_daemon import Daemon, PendingWait


def _ids(daemon: Daemon, filters: object) -> list[str]:
    target = "/v1.50/containers/json?all=1&filters=" + quote(json.dumps(filters))
    reply = daemon.request("GET", target)
    assert reply.status == 200, reply.body
    return sorted(c["Id"] for c in reply.json())


def test_list_takes_both_forms_of_filters(daemon: Daemon, busybox: str) -> None:
    labelled = daemon.docker_ok(
        "create", "--label", "tier=web", "--name", "front", busybox, "true"
    ).strip()
    daemon.docker_ok("create", "--label", "tier=db", busybox, "true")

    new_form = _ids(daemon, {"label": ["tier=web"]})
    old_form = _ids(daemon, {"label": {"tier=web": True}})
    by_name = _ids(daemon, {"name": ["front"], "status": ["created"]})
    none = _ids(daemon, {"status": ["running"]})

    assert new_form == old_form == by_name == [labelled]
    assert none == []


def test_lifecycle_verbs(daemon: Daemon, busybox: str) -> None:
    daemon.docker_ok("run", "-d", "--name", "life", busybox, "sleep", "300")

    paused = daemon.docker("pause", "life")
    state_paused = daemon.docker_ok("inspect", "-f", "{{.State.Status}}", "life")
    daemon.docker_ok("unpause", "life")
    renamed = daemon.docker("rename", "life", "renamed")
    top = daemon.docker_ok("top", "renamed")
    daemon.docker_ok("exec", "renamed", "touch", "/made-here")
    changes = daemon.docker_ok("diff", "renamed")
    restarted = daemon.docker("restart", "-t", "1", "renamed")
    started_again = daemon.docker_ok("inspect", "-f", "{{.State.Running}}", "renamed")
    start_running = daemon.request("POST", "/v1.50/containers/renamed/start")
    killed = daemon.docker("kill", "renamed")
    code = daemon.docker_ok("wait", "renamed")
    pruned = daemon.docker_ok("container", "prune", "-f")

    assert paused.returncode == 0, paused.stderr
    assert state_paused.strip() == "paused"
    assert renamed.returncode == 0
    assert "sleep 300" in top
    assert "A /made-here" in changes
    assert restarted.returncode == 0 and started_again.strip() == "true"
    assert killed.returncode == 0
    assert code.strip() == "137"
    assert start_running.status == 304
    assert "Deleted Containers" in pruned
    assert daemon.docker_ok("ps", "-aq") == ""


def test_wait_sends_headers_before_the_container_exits(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok("create", busybox, "sh", "-c", "exit 9").strip()

    waiting = PendingWait(daemon.socket, ident, "next-exit")
    daemon.docker_ok("start", ident)
    body = waiting.body()

    assert waiting.head.startswith(b"HTTP/1.1 200")
    assert b'"StatusCode": 9' in body


def test_export_gives_the_file_system_as_a_tar(daemon: Daemon, busybox: str) -> None:
    daemon.docker_ok("run", "--name", "ex", busybox, "sh", "-c", "echo x > /marker")

    reply = daemon.request("GET", "/v1.50/containers/ex/export")
    with tarfile.open(fileobj=io.BytesIO(reply.body)) as tar:
        names = {name.removeprefix("./") for name in tar.getnames()}

    assert reply.status == 200
    assert "marker" in names and "bin/busybox" in names


def test_commit_makes_an_image_from_a_containers_changes(
    daemon: Daemon, busybox: str
) -> None:
    daemon.docker_ok("run", "--name", "base", busybox, "sh", "-c", "echo v1 > /ver")

    committed = daemon.docker(
        "commit", "-c", "CMD cat /ver", "-m", "first", "base", "mine/committed:1"
    )
    ran = daemon.docker_ok("run", "--rm", "mine/committed:1")

    assert committed.returncode == 0, committed.stderr
    assert committed.stdout.strip().startswith("sha256:")
    assert ran == "v1\n"


async def test_attach_over_a_websocket_echoes_and_leaves_the_container(
    daemon: Daemon, busybox: str
) -> None:
    import aiohttp

    ident = daemon.docker_ok("run", "-d", "-i", busybox, "cat").strip()
    url = f"http://docker/v1.50/containers/{ident}/attach/ws?stream=1&stdout=1&stdin=1"

    connector = aiohttp.UnixConnector(path=str(daemon.socket))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.ws_connect(url) as socket,
    ):
        await socket.send_bytes(b"over the websocket\n")
        echoed = await socket.receive(timeout=60)

    state = daemon.docker_ok("inspect", "-f", "{{.State.Status}}", ident)

    assert echoed.data == b"over the websocket\n"
    assert state.strip() == "running"


def test_query_booleans_are_false_as_docker_reads_them(
    daemon: Daemon, busybox: str
) -> None:
    created = daemon.docker_ok("create", busybox, "true").strip()
    running = daemon.docker_ok("run", "-d", busybox, "sleep", "300").strip()

    def listed(value: str) -> set[str]:
        reply = daemon.request("GET", f"/v1.50/containers/json?all={value}")
        assert reply.status == 200, reply.body
        return {c["Id"] for c in reply.json()}

    for false in ("", "0", "no", "False", "NONE"):
        assert listed(false) == {running}, false
    for true in ("1", "true", "yes", "TRUE"):
        assert listed(true) == {created, running}, true
