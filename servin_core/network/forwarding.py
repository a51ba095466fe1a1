"""IPv4 forwarding, which a bridge network with a way out needs.

It is a host-wide switch: Servin turns it on when a network needs it (as
docker and podman do) and says so in the log, and never turns it off, since
other software may rely on it by then.
"""

from __future__ import annotations

from pathlib import Path

from servin_core import log
from servin_core.errors import Unavailable

__all__ = ["ensure_forwarding"]

_SWITCH = Path("/proc/sys/net/ipv4/ip_forward")


def ensure_forwarding(network: str, switch: Path = _SWITCH) -> None:
    """Turn IPv4 forwarding on for ``network`` if it is off."""
    try:
        if switch.read_text().strip() == "1":
            return
        switch.write_text("1\n")
    except OSError as e:
        raise Unavailable(
            "network", network, f"cannot enable IPv4 forwarding: {e.strerror}"
        ) from e
    log.for_object(log.network, "network", network).info(
        "enabled IPv4 forwarding (net.ipv4.ip_forward = 1) for outbound traffic"
    )
