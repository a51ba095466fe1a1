"""Networks through the real ``servin-tui``: ``network create|ls|inspect|
connect|disconnect|rm|prune``, ``run -p``, ``-P``, ``port``, the PORTS
column of ``ps`` and ``inspect``'s NetworkSettings, against real busybox
containers; and the errors of bad input, with nothing left behind."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Cli, QuietCli

IMAGE = "busybox-test:1"


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return QuietCli(tmp_path / "root")


@pytest.fixture
def image(cli: Cli, busybox_rootfs_tar: Path) -> Iterator[str]:
    cli.ok("import", busybox_rootfs_tar, IMAGE)
    yield IMAGE
    remaining = cli("ps", "-a", "-q", "--no-trunc").lines
    if remaining:
        cli("rm", "-f", *remaining)
    custom = cli("network", "ls", "-q", "--filter", "type=custom").lines
    if custom:
        cli("network", "rm", *custom)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


def http_get(port: int) -> str:
    """GET /hostname from 127.0.0.1:``port``, waiting for httpd to listen
    (a deadline for a broken test, not a performance threshold)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
                data = b""
                while chunk := s.recv(4096):
                    data += chunk
            return data.decode().split("\r\n\r\n", 1)[1].strip()
        except ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_create_list_inspect_and_remove(cli: Cli) -> None:
    ident = cli.ok("network", "create", "--label", "tier=db", "data").stdout.strip()

    assert len(ident) == 64
    listing = cli.ok("network", "ls").lines
    assert listing[0].split() == ["NETWORK", "ID", "NAME", "DRIVER", "SCOPE"]
    assert sorted(line.split()[1] for line in listing[1:]) == ["data", "servin"]
    assert cli.ok("network", "ls", "-q", "--filter", "label=tier=db").lines == [
        ident[:12]
    ]
    [details] = json.loads(cli.ok("network", "inspect", "data").stdout)
    assert details["Id"] == ident
    assert details["Driver"] == "bridge"
    assert details["Labels"] == {"tier": "db"}
    subnet = details["IPAM"]["Config"][0]["Subnet"]
    assert details["IPAM"]["Config"][0]["Gateway"] == subnet.replace(".0/24", ".1")

    assert cli.ok("network", "rm", "data").lines == ["data"]
    assert cli.ok("network", "ls", "-q", "--filter", "type=custom").lines == []


def test_published_port_answers_and_is_shown(cli: Cli, image: str) -> None:
    port = free_port()
    ident = cli.ok(
        "run", "-d", "--name", "web", "-p", f"{port}:80", image,
        "httpd", "-f", "-p", "80", "-h", "/etc",
    ).stdout.strip()  # fmt: skip

    assert http_get(port) == ident[:12]
    assert cli.ok("port", "web").lines == [f"80/tcp -> 0.0.0.0:{port}"]
    assert cli.ok("port", "web", "80").lines == [f"0.0.0.0:{port}"]
    row = cli.ok("ps", "--format", "{{.Ports}} {{.Networks}}").lines
    assert row == [f"0.0.0.0:{port}->80/tcp servin"]
    [details] = json.loads(cli.ok("inspect", "web").stdout)
    settings = details["NetworkSettings"]
    assert settings["Ports"] == {
        "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}]
    }
    assert settings["IPAddress"] == settings["Networks"]["servin"]["IPAddress"] != ""
    assert details["HostConfig"]["NetworkMode"] == "bridge"


def test_ps_names_the_mode_of_a_container_on_no_network(cli: Cli, image: str) -> None:
    cli.ok("create", "--name", "alone", "--network", "none", image, "true")
    cli.ok("create", "--name", "hosted", "--network", "host", image, "true")

    shown = cli.ok("ps", "-a", "--format", "{{.Names}} {{.Networks}}").lines

    assert sorted(shown) == ["alone none", "hosted host"]


def test_publish_all_takes_free_ports_for_exposed_ones(
    cli: Cli, image: str, busybox_rootfs_tar: Path
) -> None:
    cli.ok("import", "--change", "EXPOSE 80", busybox_rootfs_tar, "busybox-web:1")

    cli.ok("run", "-d", "--name", "web", "-P", "busybox-web:1",
           "httpd", "-f", "-p", "80", "-h", "/etc")  # fmt: skip

    [line] = cli.ok("port", "web").lines
    key, _, address = line.partition(" -> ")
    assert key == "80/tcp"
    assert http_get(int(address.rsplit(":", 1)[1]))


def test_connect_and_disconnect_a_running_container(cli: Cli, image: str) -> None:
    cli.ok("network", "create", "side")
    ident = cli.ok("run", "-d", "--name", "box", image, "sleep", "1000").stdout

    cli.ok("network", "connect", "--alias", "b", "side", "box")
    both = cli.ok("exec", "box", "ip", "-o", "-4", "addr").stdout
    hosts_both = cli.ok("exec", "box", "cat", "/etc/hosts").lines
    cli.ok("network", "disconnect", "side", "box")
    one = cli.ok("exec", "box", "ip", "-o", "-4", "addr").stdout
    hosts_one = cli.ok("exec", "box", "cat", "/etc/hosts").lines

    assert " eth1 " in both
    assert " eth1 " not in one
    assert " eth0 " in one
    # /etc/hosts names the container at each address it has.
    assert len([line for line in hosts_both if line.endswith(ident[:12])]) == 2
    assert len([line for line in hosts_one if line.endswith(ident[:12])]) == 1


def test_bad_input_is_refused_naming_the_object(cli: Cli, image: str) -> None:
    subnet = json.loads(cli.ok("network", "inspect", "servin").stdout)[0]["IPAM"]
    taken = subnet["Config"][0]["Subnet"]

    overlap = cli("network", "create", "--subnet", taken, "again")
    unknown = cli("run", "--rm", "--network", "nowhere", image, "true")
    bad_port = cli("run", "--rm", "-p", "99999:80", image, "true")
    in_use = cli("network", "rm", "servin")

    assert overlap.code == 1
    assert overlap.error_lines == [
        f"Error: network again: subnet {taken} overlaps network servin ({taken})"
    ]
    assert unknown.code == 125
    assert "network nowhere: No such network" in unknown.stderr
    assert bad_port.code == 125
    assert "--publish 99999:80: '99999' is not a port number" in bad_port.stderr
    assert in_use.code == 1
    assert "network servin: is the pre-defined default network" in in_use.stderr
    assert cli.ok("ps", "-a", "-q").lines == []
    assert cli.ok("network", "ls", "-q", "--filter", "type=custom").lines == []


def test_prune_removes_unused_networks_only(cli: Cli, image: str) -> None:
    cli.ok("network", "create", "used")
    cli.ok("network", "create", "unused")
    cli.ok("create", "--network", "used", image, "true")

    pruned = cli.ok("network", "prune", "-f").lines

    assert pruned == ["Deleted Networks:", "unused"]
    names = cli.ok("network", "ls", "--format", "{{.Name}}").lines
    assert sorted(names) == ["servin", "used"]
