"""The default network of this test session: a bridge and a /24 of its
own, so that concurrent sessions (other people's, on one host) never put two
subnets on one bridge, and no test touches the host's real ``servin0``.

The subnet is derived from the session's process ID and moved on while it
overlaps a route the host already has; ``remove_bridge`` deletes the bridge
when the session ends.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
from pathlib import Path

from servin_core._dataclass import replace
from servin_core.config import Config
from servin_core.network.masquerade import NatRule, drop_rule
from servin_core.network.subnets import host_routes

__all__ = ["BRIDGE", "SUBNET", "config_file", "remove_bridge", "session_config"]

BRIDGE = f"svt{os.getpid()}"[:15]


def _subnet() -> str:
    taken = [route for _, route in host_routes()]
    pool = list(ipaddress.ip_network("10.128.0.0/10").subnets(new_prefix=24))
    start = os.getpid() % len(pool)
    for step in range(len(pool)):
        candidate = pool[(start + step * 7919) % len(pool)]
        if not any(candidate.overlaps(t) for t in taken):
            return str(candidate)
    raise RuntimeError("no free /24 for the test session's default network")


def _remove_stale_bridges() -> None:
    """Bridges of sessions whose process is gone (killed before their
    teardown) and that no container uses: their routes would only narrow
    the choice of subnets."""
    for name in os.listdir("/sys/class/net"):
        pid = name.removeprefix("svt")
        if pid == name or not pid.isdigit() or os.path.exists(f"/proc/{pid}"):
            continue
        ports = f"/sys/class/net/{name}/brif"
        if os.path.isdir(ports) and not os.listdir(ports):  # no container on it
            subprocess.run(["ip", "link", "del", name], capture_output=True)


_remove_stale_bridges()
SUBNET = _subnet()


def session_config(root: Path) -> Config:
    """The configuration of a test's instance under ``root``."""
    return replace(
        Config().with_root(root), default_bridge=BRIDGE, default_network_subnet=SUBNET
    )


def config_file() -> Path:
    """A configuration file with the session's network, for the CLI."""
    path = Path(f"/tmp/servin-tests-{os.getpid()}.toml")
    if not path.exists():
        path.write_text(
            f'default_bridge = "{BRIDGE}"\ndefault_network_subnet = "{SUBNET}"\n'
        )
    return path


def remove_bridge() -> None:
    """The session's bridge, and the masquerade rule its roots shared."""
    drop_rule("servin", NatRule(BRIDGE, SUBNET))
    subprocess.run(["ip", "link", "del", BRIDGE], capture_output=True, check=False)
    Path(f"/tmp/servin-tests-{os.getpid()}.toml").unlink(missing_ok=True)
