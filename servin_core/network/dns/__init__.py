"""Name resolution on user networks: the embedded DNS responder.

Containers on a user network ask their gateway (UDP and TCP port 53) for
each other's names, short IDs and aliases; one small process per network
answers them from the state database and forwards every other name to the
host's resolvers, as docker's embedded DNS and podman's aardvark-dns do.

Modules, bottom up: ``wire`` (the message format), ``names`` (the table read
from the database), ``upstream`` (forwarding), ``server`` (the UDP and TCP
servers), ``supervise`` (starting and stopping the process, which is
``__main__``). The names below load ``supervise`` on first use, so that the
responder process, which starts through this package, does not import it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servin_core.network.dns.supervise import (
        NetworkLike,
        ensure_responder,
        release_responder,
    )

__all__ = ["NetworkLike", "ensure_responder", "release_responder"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.supervise"), name)
