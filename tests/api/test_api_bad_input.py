"""Bad input answers 4xx with a message, changes nothing, and the daemon
keeps serving: unknown fields, wrong types, absurd sizes, hostile paths."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from urllib.parse import quote

from api_daemon import Daemon, raw_request


def _tar(name: str, data: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_bodies_that_are_not_create_requests_are_refused(
    daemon: Daemon, busybox: str
) -> None:
    create = "/v1.50/containers/create"
    cases = {
        "unknown field": {"Image": busybox, "Cmd": ["true"], "Imagee": "x"},
        "wrong type": {"Image": busybox, "Cmd": ["true"], "Tty": "yes"},
        "negative memory": {
            "Image": busybox,
            "Cmd": ["true"],
            "HostConfig": {"Memory": -1},
        },
        "bad bind": {"Image": busybox, "Cmd": ["true"], "HostConfig": {"Binds": [":"]}},
        "bad port": {
            "Image": busybox,
            "Cmd": ["true"],
            "HostConfig": {"PortBindings": {"99999/tcp": [{"HostPort": "1"}]}},
        },
        "bad name": {"Image": busybox, "Cmd": ["true"]},
        "log option": {
            "Image": busybox,
            "Cmd": ["true"],
            "HostConfig": {"LogConfig": {"Config": {"compress": "true"}}},
        },
        "log size": {
            "Image": busybox,
            "Cmd": ["true"],
            "HostConfig": {
                "LogConfig": {"Type": "json-file", "Config": {"max-size": "ten"}}
            },
        },
        "log driver": {
            "Image": busybox,
            "Cmd": ["true"],
            "HostConfig": {"LogConfig": {"Type": "syslog"}},
        },
        "group": {"Image": busybox, "Cmd": ["true"], "HostConfig": {"GroupAdd": [7]}},
    }
    replies = {
        what: daemon.request(
            "POST", create + ("?name=no/slash" if what == "bad name" else ""), body
        )
        for what, body in cases.items()
    }
    huge = raw_request(
        daemon.socket, "POST", create, b'{"Image": "' + b"x" * (5 << 20) + b'"}'
    )

    for what, reply in replies.items():
        assert reply.status == 400, (what, reply.body)
        assert reply.json()["message"], what
    assert "Imagee" in replies["unknown field"].json()["message"]
    assert "Tty" in replies["wrong type"].json()["message"]
    assert replies["log option"].json()["message"] == (
        "field HostConfig.LogConfig.Config: compress=true: conmon keeps no older"
        " files to compress (only max-size, max-file=1 and compress=false are"
        " supported)"
    )
    assert "max-size=ten: expected a number" in replies["log size"].json()["message"]
    assert "the syslog log driver" in replies["log driver"].json()["message"]
    assert "GroupAdd: expected a list of strings" in replies["group"].json()["message"]
    assert huge.status == 400
    assert daemon.docker_ok("ps", "-aq") == ""
    assert daemon.request("GET", "/_ping").status == 200


def test_archive_paths_stay_inside_the_container(
    daemon: Daemon, busybox: str, tmp_path: Path
) -> None:
    secret = tmp_path / "host-secret"
    secret.write_text("host only\n")
    ident = daemon.docker_ok("run", "-d", busybox, "sleep", "300").strip()
    climb = "/.." * 12 + str(secret)

    read = daemon.request("GET", f"/v1.50/containers/{ident}/archive?path={climb}")
    head = daemon.request("HEAD", f"/v1.50/containers/{ident}/archive?path={climb}")
    escape = raw_request(
        daemon.socket,
        "PUT",
        f"/v1.50/containers/{ident}/archive?path=/tmp",
        _tar("../../../../../../../../" + str(tmp_path / "planted"), b"x"),
    )
    no_path = daemon.request("GET", f"/v1.50/containers/{ident}/archive")

    assert read.status == head.status == 404
    assert "host-secret" in read.json()["message"]
    assert escape.status in (400, 403)
    assert escape.json()["message"]
    assert not (tmp_path / "planted").exists()
    assert no_path.status == 400
    assert secret.read_text() == "host only\n"


def test_unknown_filters_and_conditions_are_400(daemon: Daemon) -> None:
    bad_filter = daemon.request(
        "GET",
        "/v1.50/containers/json?filters=" + quote(json.dumps({"colour": ["red"]})),
    )
    not_json = daemon.request("GET", "/v1.50/containers/json?filters=%7B")
    bad_condition = daemon.request(
        "POST", "/v1.50/containers/nothing/wait?condition=soon"
    )

    assert bad_filter.status == not_json.status == bad_condition.status == 400
    assert "colour" in bad_filter.json()["message"]
