"""Which function answers which RPC.

Every implemented RPC is one line here; an RPC missing from these tables
answers UNIMPLEMENTED with its name (see server.py), never a fake success.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from servin_cri import image_pull, images, status
from servin_cri.node import Node

__all__ = ["IMAGE_ROUTES", "RUNTIME_ROUTES", "Handler"]

Handler = Callable[[Node, Any], Awaitable[Any]]

RUNTIME_ROUTES: dict[str, Handler] = {
    "Version": status.version,
    "Status": status.status,
    "RuntimeConfig": status.runtime_config,
    "UpdateRuntimeConfig": status.update_runtime_config,
}

IMAGE_ROUTES: dict[str, Handler] = {
    "ListImages": images.list_images,
    "ImageStatus": images.image_status,
    "PullImage": image_pull.pull_image,
    "RemoveImage": images.remove_image,
    "ImageFsInfo": images.image_fs_info,
}
