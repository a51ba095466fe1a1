"""What every CRI handler shares: the core and the node's settings.

The handlers are functions of a :class:`Node` and a request, so that they
can be read (and tested) one RPC at a time, without the gRPC server.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from servin_cri.cni import CniLocations
from servin_cri.pod_store import PodStore

if TYPE_CHECKING:
    from servin_core.core import Core
    from servin_cri.streaming.http_server import StreamingServer

__all__ = ["RUNTIME_NAME", "Node"]

RUNTIME_NAME = "servin"


@dataclass
class Node:
    """The core behind the server and the settings kubelet relies on."""

    core: Core
    cni: CniLocations = field(default_factory=CniLocations)
    pod_cidr: str = ""
    """The range kubelet gave in UpdateRuntimeConfig; empty until then."""
    streaming: StreamingServer | None = None
    """Serves the URLs Exec, Attach and PortForward answer with."""

    @property
    def pods(self) -> PodStore:
        return PodStore(self.core.db)
