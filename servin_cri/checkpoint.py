"""CheckpointContainer: refused, naming the container, because Servin has
no checkpointing (it would need CRIU and an archive kubelet's forensic
checkpointing can read; TODO: crun and runc both have a ``checkpoint``
command, which is where it would start).

The refusal comes before any look-up, so that a client probing for the
feature with any ID learns that it is missing (UNIMPLEMENTED), not that
its ID is unknown.
"""

from __future__ import annotations

from servin_cri.instrument import NotSupported
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = ["checkpoint_container"]


async def checkpoint_container(
    node: Node, request: pb.CheckpointContainerRequest
) -> pb.CheckpointContainerResponse:
    raise NotSupported(
        "container", request.container_id, "checkpointing is not supported by Servin"
    )
