"""Building small images for tests from tar entries, through the core's own
content store and ``create_image``: the same path a pull ends with."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass

from servin_core.core import Core
from servin_core.images import mediatypes
from servin_core.images.content import digest_of
from servin_core.images.create import create_image
from servin_core.images.reference import parse_reference
from servin_core.images.store import Image


@dataclass
class Entry:
    """One tar entry: a file (``data``), ``dir``, ``symlink``, ``hardlink``,
    ``chardev`` or ``fifo``."""

    name: str
    kind: str = "file"
    data: bytes = b""
    target: str = ""
    mode: int = 0o644
    uid: int = 0
    gid: int = 0
    xattrs: dict[str, str] | None = None


def file(name: str, data: bytes = b"", **kw: object) -> Entry:
    return Entry(name, "file", data=data, **kw)  # type: ignore[arg-type]


def tar_of(entries: Sequence[Entry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            info = tarfile.TarInfo(entry.name)
            info.mode, info.uid, info.gid = entry.mode, entry.uid, entry.gid
            info.mtime = 1_700_000_000
            if entry.xattrs:
                info.pax_headers = {
                    f"SCHILY.xattr.{k}": v for k, v in entry.xattrs.items()
                }
            types = {
                "dir": tarfile.DIRTYPE,
                "symlink": tarfile.SYMTYPE,
                "hardlink": tarfile.LNKTYPE,
                "chardev": tarfile.CHRTYPE,
                "fifo": tarfile.FIFOTYPE,
            }
            if entry.kind == "file":
                info.size = len(entry.data)
                tar.addfile(info, io.BytesIO(entry.data))
                continue
            info.type = types[entry.kind]
            info.linkname = entry.target
            if entry.kind == "chardev":
                info.devmajor, info.devminor = 1, 3
            tar.addfile(info)
    return buf.getvalue()


def oci_image(
    core: Core, layers: Sequence[bytes], *, config: dict[str, object] | None = None
) -> tuple[bytes, list[bytes]]:
    """The manifest and gzipped layer blobs for ``layers`` (uncompressed tars),
    with the config stored in ``core`` (not leased: callers lease)."""
    blobs = [gzip.compress(layer, compresslevel=1, mtime=0) for layer in layers]
    image_config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "2026-01-01T00:00:00Z",
        "config": config or {},
        "rootfs": {"type": "layers", "diff_ids": [digest_of(t) for t in layers]},
        "history": [{"created_by": f"layer {i}"} for i in range(len(layers))],
    }
    config_bytes = json.dumps(image_config).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {
            "mediaType": mediatypes.OCI_CONFIG,
            "digest": digest_of(config_bytes),
            "size": len(config_bytes),
        },
        "layers": [
            {
                "mediaType": mediatypes.OCI_LAYER_GZIP,
                "digest": digest_of(blob),
                "size": len(blob),
            }
            for blob in blobs
        ],
    }
    return json.dumps(manifest).encode(), [config_bytes, *blobs]


async def store_image(
    core: Core,
    layers: Sequence[bytes],
    *,
    tags: Sequence[str] = (),
    config: dict[str, object] | None = None,
) -> Image:
    """Put an image made of ``layers`` in ``core`` as a pull would."""
    manifest, blobs = oci_image(core, layers, config=config)
    with core.leases.acquire() as lease:
        for blob in blobs:
            lease.add("blob", digest_of(blob))
            core.content.put(blob, digest_of(blob))
        return await create_image(
            core,
            manifest,
            mediatypes.OCI_MANIFEST,
            lease=lease,
            tags=[parse_reference(t) for t in tags],
            reference=tags[0] if tags else "",
            action="pull",
        )
