"""What ``inspect`` and ``history`` show of an image, in docker's shapes.

Names are docker's familiar ones (``busybox:latest``), so that scripts that
read docker's output read Servin's.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from servin_core.images.reference import parse_reference
from servin_core.images.store import Image

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["config_of", "history", "inspect"]

# docker prints these keys of an image's Config even when they are empty.
_CONFIG_DEFAULTS: dict[str, Any] = {
    "Hostname": "",
    "Domainname": "",
    "User": "",
    "AttachStdin": False,
    "AttachStdout": False,
    "AttachStderr": False,
    "Tty": False,
    "OpenStdin": False,
    "StdinOnce": False,
    "Env": None,
    "Cmd": None,
    "Image": "",
    "Volumes": None,
    "WorkingDir": "",
    "Entrypoint": None,
    "OnBuild": None,
    "Labels": None,
}


def config_of(core: Core, image: Image) -> dict[str, Any]:
    """The image's config blob, parsed."""
    config: dict[str, Any] = json.loads(core.content.read(image.id))
    return config


def familiar(name: str) -> str:
    return parse_reference(name, default_tag=False).familiar()


def inspect(core: Core, image: Image) -> dict[str, Any]:
    config = config_of(core, image)
    lowers = [str(core.snapshots.path(layer.chain_id)) for layer in image.layers]
    result: dict[str, Any] = {
        "Id": image.id,
        "RepoTags": [familiar(tag) for tag in image.tags],
        "RepoDigests": [familiar(name) for name in image.repo_digests],
        "Parent": "",
        "Comment": _comment(config),
        "Created": image.created or "",
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Config": {**_CONFIG_DEFAULTS, **(config.get("config") or {})},
        "Architecture": image.architecture,
        "Os": image.os,
        "Size": image.size,
        "GraphDriver": {
            "Name": "overlay",
            # Lower directories are listed top first, as overlayfs takes them.
            "Data": {"LowerDir": ":".join(reversed(lowers))} if lowers else {},
        },
        "RootFS": {
            "Type": "layers",
            "Layers": [layer.diff_id for layer in image.layers],
        },
        "Metadata": {"LastTagTime": ""},
        "History": config.get("history", []),
        "Descriptor": {
            "mediaType": image.manifest_media_type,
            "digest": image.manifest_digest,
            "size": core.content.size(image.manifest_digest),
        },
    }
    if image.variant:
        result["Variant"] = image.variant
    return result


def _comment(config: dict[str, Any]) -> str:
    entries = config.get("history") or []
    return str(entries[-1].get("comment", "")) if entries else ""


def history(core: Core, image: Image) -> list[dict[str, Any]]:
    """docker's history rows, newest first: ``Id`` (``<missing>`` below the
    top), ``Created``, ``CreatedBy``, ``Size``, ``Comment``."""
    config = config_of(core, image)
    entries = config.get("history") or [{} for _ in image.layers]
    layer_sizes = iter(core.snapshots.size(layer.chain_id) for layer in image.layers)
    rows = []
    for entry in entries:
        empty = bool(entry.get("empty_layer"))
        rows.append(
            {
                "Id": "<missing>",
                "Created": entry.get("created", ""),
                "CreatedBy": entry.get("created_by", ""),
                "Size": 0 if empty else next(layer_sizes, 0),
                "Comment": entry.get("comment", ""),
            }
        )
    rows.reverse()
    if rows:
        rows[0]["Id"] = image.id
    return rows
