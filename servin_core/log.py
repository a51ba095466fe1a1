"""Every logger of the core, declared in one place.

Log lines about an object carry its ID through :func:`for_object`, which gives
an adapter that prefixes ``[kind=ID]``. Arguments are passed %-style so that a
line costs nothing when its level is off.
"""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

__all__ = [
    "ObjectAdapter",
    "api",
    "cli",
    "configure",
    "containers",
    "content",
    "cri",
    "dns",
    "events",
    "for_object",
    "images",
    "network",
    "registry",
    "runtime",
    "snapshots",
    "state",
    "volumes",
]

root = logging.getLogger("servin")
state = logging.getLogger("servin.state")
content = logging.getLogger("servin.content")
snapshots = logging.getLogger("servin.snapshots")
images = logging.getLogger("servin.images")
registry = logging.getLogger("servin.registry")
events = logging.getLogger("servin.events")
cli = logging.getLogger("servin.cli")
containers = logging.getLogger("servin.containers")
runtime = logging.getLogger("servin.runtime")
network = logging.getLogger("servin.network")
volumes = logging.getLogger("servin.volumes")
dns = logging.getLogger("servin.dns")
cri = logging.getLogger("servin.cri")
api = logging.getLogger("servin.api")


class ObjectAdapter(logging.LoggerAdapter[logging.Logger]):
    """Prefixes each message with the object it concerns."""

    def process(
        self, msg: Any, kwargs: MutableMapping[str, Any]
    ) -> tuple[Any, MutableMapping[str, Any]]:
        assert self.extra is not None
        return f"[{self.extra['kind']}={self.extra['id']}] {msg}", kwargs


def for_object(logger: logging.Logger, kind: str, ident: str) -> ObjectAdapter:
    """A logger whose lines name ``kind`` ``ident``, e.g. ``[image=sha256:ab..]``."""
    return ObjectAdapter(logger, {"kind": kind, "id": ident})


def configure(level: str = "warning") -> None:
    """Send the core's logs to stderr at ``level`` (a name such as ``info``)."""
    numeric = logging.getLevelName(level.upper())
    if not isinstance(numeric, int):
        raise ValueError(f"unknown log level {level!r}")
    handler = logging.StreamHandler()
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    root.propagate = False
