"""Outbound NAT: one masquerade rule per network, as docker and podman
have, rather than the bridge plugin's ``ipMasq`` (a chain and two rules
per container, made and deleted by several iptables processes at every
start and removal, most of what joining the default network cost).

The rule masquerades what leaves the network's subnet for anywhere but
that subnet; an internal network gets none. It lives in Servin's own
chain, ``SERVIN-POSTROUTING`` in the nat table, jumped to from
POSTROUTING, so that Servin's rules are easy to find and remove. It is
ensured at every join (one ``iptables -C`` when it is there already, so a
flushed firewall is mended by the next start) and deleted before the
network's row at ``network rm``.

The rules are written with the ``iptables`` command, as the CNI plugins
(portmap, and the bridge plugin's ipMasq for other CNI users) write
theirs, so both go through the one backend the host chose (nft on Debian
12). Two roots may share a bridge and subnet (every root's default
network is ``servin0``): the rule names the bridge and subnet, not a
network ID, so they share one rule, and a host-wide lock keeps two
processes from adding it twice.

A marker under the data directory (``networks/nat/ID``) is written before
a user network's rule is added and deleted after it is removed: the tidy
at open removes the rule of a marker whose network row is gone.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core.errors import Unavailable
from servin_core.network.model import DEFAULT_NETWORK, Network

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "CHAIN",
    "NatRule",
    "drop_rule",
    "ensure_masquerade",
    "remove_masquerade",
    "tidy_masquerades",
]

CHAIN = "SERVIN-POSTROUTING"
_LOCK = Path("/run/servin-nat.lock")
"""Host-wide: the rules are the host's, whichever root made them."""


@dataclass(frozen=True)
class NatRule:
    """The masquerade rule of a bridge's subnet."""

    bridge: str
    subnet: str

    @classmethod
    def of(cls, network: Network) -> NatRule:
        return cls(network.bridge, network.subnet)

    def spec(self) -> list[str]:
        return [
            "-s", self.subnet, "!", "-d", self.subnet,
            "-m", "comment", "--comment", f"servin {self.bridge}",
            "-j", "MASQUERADE",
        ]  # fmt: skip


def _marker_dir(data_dir: Path) -> Path:
    return data_dir / "networks" / "nat"


def _iptables(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("iptables")
    if binary is None:
        raise Unavailable(
            "network", name, "iptables is not installed: outbound NAT needs it"
        )
    return subprocess.run(
        [binary, "-w", "-t", "nat", *args], capture_output=True, text=True
    )


def _must(name: str, done: subprocess.CompletedProcess[str]) -> None:
    if done.returncode != 0:
        words = (done.stderr or done.stdout).strip() or f"exit {done.returncode}"
        command = " ".join(done.args[4:])
        raise Unavailable("network", name, f"iptables {command}: {words}")


@contextmanager
def _host_lock(name: str, path: Path = _LOCK) -> Iterator[None]:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as e:
        raise Unavailable("network", name, f"cannot lock {path}: {e.strerror}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def ensure_masquerade(core: Core, network: Network) -> None:
    """Make sure ``network``'s outbound traffic is masqueraded (nothing
    for an internal network). Cheap when the rule is there already."""
    if network.internal:
        return
    rule = NatRule.of(network)
    if _iptables(network.name, "-C", CHAIN, *rule.spec()).returncode == 0:
        return

    with _host_lock(network.name):
        if _iptables(network.name, "-L", CHAIN, "-n").returncode != 0:
            _must(network.name, _iptables(network.name, "-N", CHAIN))
        if _iptables(network.name, "-C", "POSTROUTING", "-j", CHAIN).returncode:
            _must(
                network.name, _iptables(network.name, "-A", "POSTROUTING", "-j", CHAIN)
            )
        if network.name != DEFAULT_NETWORK:
            _write_marker(core.config.data_dir, network.id, rule)
        if _iptables(network.name, "-C", CHAIN, *rule.spec()).returncode == 0:
            return  # another process was first
        _must(network.name, _iptables(network.name, "-A", CHAIN, *rule.spec()))
    log.for_object(log.network, "network", network.id).info(
        "masquerading traffic from %s leaving bridge %s", rule.subnet, rule.bridge
    )


def _write_marker(data_dir: Path, network_id: str, rule: NatRule) -> None:
    directory = _marker_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = directory / f"{network_id}.tmp"
    temp.write_text(json.dumps({"bridge": rule.bridge, "subnet": rule.subnet}))
    os.replace(temp, directory / network_id)


def drop_rule(name: str, rule: NatRule) -> None:
    """Delete every copy of ``rule``, ``name`` its network's for errors;
    nothing if there is none (also what removes a bridge's rule that no
    network owns, such as a test session's default bridge)."""
    if shutil.which("iptables") is None:
        return  # so no rule was ever made
    if _iptables(name, "-C", CHAIN, *rule.spec()).returncode != 0:
        return  # none (or not ours to see: only root makes them)
    with _host_lock(name):
        for _ in range(100):  # copies an administrator may have added
            if _iptables(name, "-D", CHAIN, *rule.spec()).returncode != 0:
                break


def remove_masquerade(core: Core, network: Network) -> None:
    """Delete ``network``'s rule (before its row: a removal killed after
    this leaves a network whose next join adds the rule again)."""
    if not network.internal:
        drop_rule(network.name, NatRule.of(network))
    (_marker_dir(core.config.data_dir) / network.id).unlink(missing_ok=True)


def tidy_masquerades(core: Core) -> int:
    """Delete the rules of networks whose row is gone; how many."""
    directory = _marker_dir(core.config.data_dir)
    try:
        names = [n for n in os.listdir(directory) if not n.endswith(".tmp")]
    except FileNotFoundError:
        return 0
    if not names:
        return 0
    rows = {row[0] for row in core.db.query("SELECT id FROM networks")}
    removed = 0
    for network_id in sorted(set(names) - rows):
        marker = directory / network_id
        try:
            data = json.loads(marker.read_text())
        except (OSError, ValueError):
            marker.unlink(missing_ok=True)
            continue
        drop_rule(network_id, NatRule(data["bridge"], data["subnet"]))
        marker.unlink(missing_ok=True)
        removed += 1
        log.for_object(log.network, "network", network_id).info(
            "removed the masquerade rule of a removed network (%s)", data["subnet"]
        )
    return removed
