"""What every CRI handler shares: the core and the node's settings.

The handlers are functions of a :class:`Node` and a request, so that they
can be read (and tested) one RPC at a time, without the gRPC server.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from servin_core._dataclass import dataclass, field
from servin_cri.cni import CniLocations
from servin_cri.pb import api_pb2 as pb
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

    _pod_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    fs_info: tuple[int, float, pb.ImageFsInfoResponse] | None = None
    """The last ImageFsInfo answer: the events' sequence and the clock then."""

    @property
    def pods(self) -> PodStore:
        return PodStore(self.core.db, self.core.events)

    def pod_lock(self, pod_id: str) -> asyncio.Lock:
        """Changes to one pod and its set of containers, one at a time (a
        container made while its pod is removed would outlive it). Only this
        server changes pods, so a lock of its own is enough."""
        return self._pod_locks.setdefault(pod_id, asyncio.Lock())

    def forget_pod_lock(self, pod_id: str) -> None:
        self._pod_locks.pop(pod_id, None)
