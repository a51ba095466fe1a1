"""Where a registry is reached: its mirrors, its real host, and how.

Pulls try the configured mirrors in order, then the registry itself; pushes go
to the registry only, since a mirror is a read-only cache. ``docker.io`` is a
name, not a host: its API lives at ``registry-1.docker.io``.

TLS is verified unless the configuration marks the host insecure. As docker
does, loopback hosts count as insecure without configuration, which lets a
local test registry speak plain HTTP. An insecure endpoint tries HTTPS
(unverified) first, then falls back to HTTP.
"""

from __future__ import annotations

import ipaddress

from servin_core._dataclass import dataclass
from servin_core.config import Config
from servin_core.errors import InvalidArgument
from servin_core.images.reference import DEFAULT_REGISTRY

__all__ = [
    "DOCKER_HUB_API_HOST",
    "Endpoint",
    "is_loopback",
    "pull_endpoints",
    "push_endpoint",
]

DOCKER_HUB_API_HOST = "registry-1.docker.io"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One host that serves the Registry API for a registry name."""

    registry: str
    """The registry name in references (``docker.io``, ``localhost:5000``)."""
    host: str
    """``host[:port]`` to connect to."""
    schemes: tuple[str, ...]
    """Schemes to try in order: ``("https",)`` or ``("https", "http")``."""
    verify_tls: bool
    mirror: bool = False

    def __str__(self) -> str:
        return self.host


def is_loopback(host: str) -> bool:
    """Whether ``host[:port]`` names this machine: localhost, 127/8 or ::1."""
    name = _hostname(host)
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.index("]")]
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _endpoint(
    config: Config, registry: str, location: str, *, mirror: bool
) -> Endpoint:
    """An endpoint for ``location``: a host, or a URL whose scheme is forced."""
    scheme, sep, rest = location.partition("://")
    host = (rest if sep else location).rstrip("/")
    if not host or "/" in host:
        raise InvalidArgument("registry", location, "expected a host[:port]")
    insecure = config.is_insecure(host) or is_loopback(host)
    if sep and scheme not in ("http", "https"):
        raise InvalidArgument("registry", location, f"unknown scheme {scheme!r}")
    if sep:
        schemes: tuple[str, ...] = (scheme,)
    else:
        schemes = ("https", "http") if insecure else ("https",)
    return Endpoint(registry, host, schemes, not insecure, mirror)


def pull_endpoints(config: Config, registry: str) -> list[Endpoint]:
    """The endpoints a pull from ``registry`` tries, in order."""
    mirrors = [
        _endpoint(config, registry, m, mirror=True)
        for m in config.registry(registry).mirrors
    ]
    return [*mirrors, push_endpoint(config, registry)]


def push_endpoint(config: Config, registry: str) -> Endpoint:
    """The one endpoint that receives pushes to ``registry``."""
    host = DOCKER_HUB_API_HOST if registry == DEFAULT_REGISTRY else registry
    endpoint = _endpoint(config, registry, host, mirror=False)
    if registry != host and config.is_insecure(registry):
        return Endpoint(registry, host, ("https", "http"), False)
    return endpoint
