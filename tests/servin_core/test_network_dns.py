"""The DNS responder of user networks, queried by real clients.

Each test gets a fresh network namespace with a bridge holding the
gateway (10.77.0.1) and a stand-in upstream resolver (10.77.0.2), which the
namespace's resolv.conf names (``ip netns exec`` mounts
/etc/netns/NAME/resolv.conf over /etc/resolv.conf). The responder is started
by ``ensure_responder`` run inside the namespace, as a Servin command on the
host would run it, so it listens on port 53 without touching the host's.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TypedDict

import pytest
from containers_kit import eventually, processes_naming

from servin_core.core import Core
from servin_core.network.dns.supervise import ResponderPaths

KIT = str(Path(__file__).with_name("dns_kit.py"))
GATEWAY = "10.77.0.1"
UPSTREAM = "10.77.0.2"
NETWORK_ID = "d" * 52 + secrets.token_hex(6)
WEB_ID = "a1b2c3d4e5f6" + "0" * 52


class Reply(TypedDict):
    id: int
    rcode: int
    tc: bool
    aa: bool
    answers: list[str]


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, check=check, capture_output=True, text=True)


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"servin-dns-{secrets.token_hex(4)}"
    etc = Path("/etc/netns") / name
    _run("ip", "netns", "add", name)
    try:
        _run("ip", "-n", name, "link", "set", "lo", "up")
        _run("ip", "-n", name, "link", "add", "dns0", "type", "bridge")
        _run("ip", "-n", name, "addr", "add", f"{GATEWAY}/24", "dev", "dns0")
        _run("ip", "-n", name, "addr", "add", f"{UPSTREAM}/24", "dev", "dns0")
        _run("ip", "-n", name, "link", "set", "dns0", "up")
        etc.mkdir(parents=True)
        (etc / "resolv.conf").write_text(f"# test\nnameserver {UPSTREAM}\n")
        yield name
    finally:
        _run("ip", "netns", "del", name, check=False)
        shutil.rmtree(etc, ignore_errors=True)


@pytest.fixture
def upstream(netns: str) -> Iterator[None]:
    proc = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, KIT, "upstream", UPSTREAM],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        yield
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]


def _container(core: Core, cid: str, name: str, state: str = "running") -> None:
    with core.db.write() as conn:
        conn.execute(
            "INSERT INTO containers (id, name, image_id, image_name, created,"
            " config, lowers, runtime, state) VALUES (?, ?, 'sha256:0', 'busybox',"
            " 0, '{}', '[]', 'crun', ?)",
            (cid, name, state),
        )


def _endpoint(core: Core, cid: str, ip: str, aliases: list[str]) -> None:
    with core.db.write() as conn:
        conn.execute(
            "INSERT INTO endpoints (container_id, network_id, interface, ip, aliases)"
            " VALUES (?, ?, 'eth0', ?, ?)",
            (cid, NETWORK_ID, ip, json.dumps(aliases)),
        )


@pytest.fixture
def store(core: Core) -> Iterator[Core]:
    """A network with a running container "web" (alias "frontend")."""
    with core.db.write() as conn:
        conn.execute(
            "INSERT INTO networks (id, name, bridge, subnet, gateway, created)"
            " VALUES (?, 'appnet', 'dns0', '10.77.0.0/24', ?, 0)",
            (NETWORK_ID, GATEWAY),
        )
    _container(core, WEB_ID, "web")
    _endpoint(core, WEB_ID, "10.77.0.10", ["frontend"])
    yield core

    # Whatever a test left running is stopped here, and counted there.
    token = ResponderPaths.of(core.config.run_dir, NETWORK_ID).running_token()
    if token is not None:
        os.kill(int(token.split(".")[0]), signal.SIGKILL)
        eventually(lambda: not _responders(), "the responder to be killed")


@pytest.fixture
def responder(store: Core, netns: str, upstream: None) -> Core:
    _supervise(netns, store, "ensure")
    return store


def _supervise(
    netns: str, core: Core, action: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    root = str(core.config.data_dir)
    return _run(
        "ip", "netns", "exec", netns, sys.executable, KIT, action, root,
        NETWORK_ID, "appnet", GATEWAY, check=check,
    )  # fmt: skip


def _query(netns: str, name: str, qtype: str = "a", via: str = "udp") -> Reply:
    out = _run("ip", "netns", "exec", netns, sys.executable, KIT, "query", GATEWAY,
               name, qtype, via)  # fmt: skip
    result: Reply = json.loads(out.stdout)
    return result


def _raw(netns: str, hex_message: str) -> dict[str, object]:
    out = _run("ip", "netns", "exec", netns, sys.executable, KIT, "raw", GATEWAY,
               hex_message)  # fmt: skip
    result: dict[str, object] = json.loads(out.stdout)
    return result


def _nslookup(netns: str, name: str) -> subprocess.CompletedProcess[str]:
    return _run("ip", "netns", "exec", netns, "busybox", "nslookup", name, GATEWAY,
                check=False)  # fmt: skip


def _responders() -> list[int]:
    return processes_naming(NETWORK_ID)


def test_containers_resolve_by_name_alias_and_short_id(
    responder: Core, netns: str
) -> None:
    for name in ("web", "frontend", WEB_ID[:12], "WEB", "Frontend."):
        out = _nslookup(netns, name)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "10.77.0.10" in out.stdout

    both = [_query(netns, "web", via=via) for via in ("udp", "tcp")]
    assert all(r["answers"] == ["10.77.0.10"] and r["aa"] for r in both)

    # A name the responder owns has no IPv6 address: "no record", not "no name".
    aaaa = _query(netns, "web", "aaaa")
    assert (aaaa["rcode"], aaaa["answers"]) == (0, [])


def test_a_container_address_resolves_back_to_its_name(
    responder: Core, netns: str
) -> None:
    out = _nslookup(netns, "10.77.0.10")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "10.0.77.10.in-addr.arpa\tname = web" in out.stdout
    # Other addresses are for the host's resolvers.
    assert _nslookup(netns, "10.77.0.99").returncode != 0


def test_other_names_go_to_the_hosts_resolver(responder: Core, netns: str) -> None:
    out = _nslookup(netns, "outside.example")
    assert out.returncode == 0 and "192.0.2.7" in out.stdout

    unknown = _query(netns, "nobody.example")
    assert (unknown["rcode"], unknown["answers"]) == (3, [])
    missing = _nslookup(netns, "nobody")
    assert missing.returncode != 0

    # Upstream truncates "big" over UDP: the responder asks again over TCP.
    big = _query(netns, "big.example")
    assert (big["tc"], len(big["answers"])) == (False, 20)

    # "huge" cannot fit a 512-byte reply: the client is told to use TCP.
    huge_udp = _query(netns, "huge.example")
    assert (huge_udp["tc"], huge_udp["answers"]) == (True, [])
    huge_tcp = _query(netns, "huge.example", via="tcp")
    assert len(huge_tcp["answers"]) == 60
    # A client that offers more room (EDNS) gets it all over UDP.
    huge_edns = _query(netns, "huge.example", via="edns")
    assert (huge_edns["tc"], len(huge_edns["answers"])) == (False, 60)


def test_a_silent_resolver_is_a_server_failure(store: Core, netns: str) -> None:
    # No upstream fixture: nothing listens on the resolver's port.
    _supervise(netns, store, "ensure")
    for via in ("udp", "tcp"):
        assert _query(netns, "outside.example", via=via)["rcode"] == 2  # SERVFAIL
    assert _query(netns, "web")["answers"] == ["10.77.0.10"]


def test_malformed_queries_get_formerr_and_harm_nothing(
    responder: Core, netns: str
) -> None:
    header = "4243" + "0100" + "0001" + "0000" * 3
    looping = header + "c00c" + "00010001"  # the name points at itself
    cut_short = header + "03776562"  # "web" with no end and no type
    for message in (looping, cut_short):
        reply = _raw(netns, message)
        assert (reply["reply"], reply["id"], reply["rcode"]) == (True, 0x4243, 1)
    assert _raw(netns, "0001")["reply"] is False  # not even a header: dropped
    assert _query(netns, "web")["answers"] == ["10.77.0.10"]


def test_an_internal_network_forwards_nothing(responder: Core, netns: str) -> None:
    with responder.db.write() as conn:
        conn.execute("UPDATE networks SET internal = 1")
    assert _query(netns, "outside.example")["rcode"] == 5  # REFUSED
    assert _query(netns, "web")["answers"] == ["10.77.0.10"]


def test_names_follow_the_database(responder: Core, netns: str) -> None:
    db_id = "f0e1d2c3b4a5" + "1" * 52
    _container(responder, db_id, "db")
    _endpoint(responder, db_id, "10.77.0.11", ["store", "frontend"])
    assert _query(netns, "db")["answers"] == ["10.77.0.11"]
    # An alias two containers share answers with both.
    shared = _query(netns, "frontend")["answers"]
    assert sorted(shared) == ["10.77.0.10", "10.77.0.11"]

    # A stopped container's name goes away with its process.
    with responder.db.write() as conn:
        conn.execute("UPDATE containers SET state = 'exited' WHERE id = ?", (db_id,))
    assert _query(netns, "db")["rcode"] == 3
    assert _query(netns, "frontend")["answers"] == ["10.77.0.10"]


def test_release_stops_it_only_when_no_endpoint_is_live(
    responder: Core, netns: str
) -> None:
    first = _responders()
    assert len(first) == 1

    _supervise(netns, responder, "ensure")
    assert _responders() == first

    _supervise(netns, responder, "release")
    assert _responders() == first
    assert _query(netns, "web")["answers"] == ["10.77.0.10"]

    # The container stops: its endpoint stays, without an address.
    with responder.db.write() as conn:
        conn.execute("UPDATE endpoints SET ip = ''")
        conn.execute("UPDATE containers SET state = 'exited'")
    _supervise(netns, responder, "release")
    assert _responders() == []
    assert not ResponderPaths.of(responder.config.run_dir, NETWORK_ID).pid.exists()

    _supervise(netns, responder, "ensure")
    second = _responders()
    assert len(second) == 1 and second != first


def test_racing_ensures_start_one_responder(
    store: Core, netns: str, upstream: None
) -> None:
    root = str(store.config.data_dir)
    argv = ["ip", "netns", "exec", netns, sys.executable, KIT, "ensure", root,
            NETWORK_ID, "appnet", GATEWAY]  # fmt: skip
    racers = [subprocess.Popen(argv) for _ in range(4)]
    assert [p.wait() for p in racers] == [0] * 4
    assert len(_responders()) == 1
    assert _query(netns, "web")["answers"] == ["10.77.0.10"]


def test_a_responder_that_died_is_replaced(responder: Core, netns: str) -> None:
    (dead,) = _responders()
    os.kill(dead, signal.SIGKILL)
    eventually(lambda: not _responders(), "the responder to die")

    _supervise(netns, responder, "ensure")
    (alive,) = _responders()
    assert alive != dead
    assert _query(netns, "frontend")["answers"] == ["10.77.0.10"]


def test_a_removed_network_ends_its_responder(responder: Core, netns: str) -> None:
    with responder.db.write() as conn:
        conn.execute("DELETE FROM endpoints")
        conn.execute("DELETE FROM networks")
    eventually(lambda: not _responders(), "the responder to end")


def test_a_deleted_store_ends_its_responder(responder: Core, netns: str) -> None:
    responder.db.path.unlink()
    eventually(lambda: not _responders(), "the responder to end")


def test_a_taken_port_is_a_clear_error(store: Core, netns: str) -> None:
    squatter = subprocess.Popen(
        ["ip", "netns", "exec", netns, sys.executable, KIT, "upstream", GATEWAY],
        stdout=subprocess.PIPE,
    )
    try:
        assert squatter.stdout is not None
        squatter.stdout.readline()
        out = _supervise(netns, store, "ensure", check=False)
    finally:
        squatter.kill()
        squatter.wait()
        squatter.stdout.close()  # type: ignore[union-attr]
    assert out.returncode != 0
    assert "appnet" in out.stderr
    assert "did not start: cannot listen on 10.77.0.1 port 53" in out.stderr
    assert _responders() == []
