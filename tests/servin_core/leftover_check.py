"""The check that a failed import or load left nothing behind: no blob, no
partial write, no snapshot, no row and no lease."""

from __future__ import annotations

import os

from servin_core.core import Core


def leftovers(core: Core) -> dict[str, object]:
    """Everything a failed import or load could have left behind."""
    return {
        "blobs": sorted(core.content.digests()),
        "ingest": os.listdir(core.content.ingest_dir),
        "snapshots": os.listdir(core.snapshots.root),
        "snapshot rows": core.db.query("SELECT chain_id FROM snapshots"),
        "images": core.db.query("SELECT id FROM images"),
        "tags": core.db.query("SELECT name FROM tags"),
        "leases": core.db.query("SELECT id FROM leases"),
    }


NOTHING: dict[str, object] = {
    "blobs": [],
    "ingest": [],
    "snapshots": [],
    "snapshot rows": [],
    "images": [],
    "tags": [],
    "leases": [],
}
