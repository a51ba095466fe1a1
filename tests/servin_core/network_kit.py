"""Helpers for the network tests: what a container may leave on the host
(veths, pinned namespaces, firewall rules, leases, cache entries), and an
"outside" host in a namespace of its own to test NAT against."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from servin_core.core import Core
from servin_core.network.cni_cache import cache_root
from servin_core.network.conflist import ipam_dir
from servin_core.network.netns import create_netns, netns_path, remove_netns


def bridge_ports(bridge: str) -> list[str]:
    """Interfaces (the host ends of veths) enslaved to ``bridge``."""
    try:
        return sorted(os.listdir(f"/sys/class/net/{bridge}/brif"))
    except FileNotFoundError:
        return []


def nat_rules_naming(text: str) -> list[str]:
    dump = subprocess.run(
        ["iptables-save", "-t", "nat"], capture_output=True, text=True, check=True
    ).stdout
    return [line for line in dump.splitlines() if text in line]


def leases_of(core: Core, container_id: str) -> list[str]:
    found = []
    for directory in ipam_dir(core.config.data_dir).glob("*"):
        for lease in directory.iterdir():
            if lease.is_file() and container_id in lease.read_text(errors="replace"):
                found.append(str(lease))
    return found


def network_leftovers(core: Core, container_id: str) -> dict[str, object]:
    """What a container that does not run must not hold of its networks."""
    return {
        "netns": netns_path(core.config.run_dir, container_id).exists(),
        "cache": (cache_root(core.config.data_dir) / container_id).exists(),
        "rules": nat_rules_naming(container_id),
        "leases": leases_of(core, container_id),
        "addresses": core.db.query(
            "SELECT ip FROM endpoints WHERE container_id = ? AND ip != ''",
            (container_id,),
        ),
    }


NO_NETWORK_LEFTOVERS: dict[str, object] = {
    "netns": False,
    "cache": False,
    "rules": [],
    "leases": [],
    "addresses": [],
}


@contextmanager
def outside_host(tmp_path: Path, suffix: str) -> Iterator[tuple[str, str]]:
    """A namespace joined to the host by a veth pair on 198.18.N.0/30:
    (the namespace's path, its address). Traffic from a container to it is
    forwarded by the host, so it passes the host's NAT."""
    number = os.getpid() % 250
    host_side, far_side = f"svo{suffix}{number}h", f"svo{suffix}{number}o"
    host_ip, far_ip = f"198.18.{number}.1", f"198.18.{number}.2"
    path = tmp_path / f"outside-{suffix}"
    create_netns(path)

    def ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True)

    def inside(*args: str) -> None:
        subprocess.run(["nsenter", f"--net={path}", "ip", *args], check=True)

    try:
        ip("link", "add", host_side, "type", "veth", "peer", "name", far_side)
        ip("link", "set", far_side, "netns", str(path))
        ip("addr", "add", f"{host_ip}/30", "dev", host_side)
        ip("link", "set", host_side, "up")
        inside("addr", "add", f"{far_ip}/30", "dev", far_side)
        inside("link", "set", far_side, "up")
        inside("route", "add", "default", "via", host_ip)
        yield str(path), far_ip
    finally:
        subprocess.run(["ip", "link", "del", host_side], capture_output=True)
        remove_netns(path)


_LISTENER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 9099))
s.listen(1)
print("ready", flush=True)
conn, peer = s.accept()
conn.sendall(b"hello from outside\\n")
conn.close()
print(peer[0], flush=True)
"""


@contextmanager
def listener_in(netns: str, address: str) -> Iterator[subprocess.Popen[str]]:
    """A TCP listener on ``address``:9099 in ``netns`` that greets one
    client and prints the address the client came from."""
    process = subprocess.Popen(
        ["nsenter", f"--net={netns}", sys.executable, "-c", _LISTENER, address],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        yield process
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()
