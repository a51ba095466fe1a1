"""What was asked of the plugins for each endpoint, kept until DEL.

The entry is written before ADD runs and completed with its result after,
so that a process killed in the middle of an ADD still leaves the exact
configuration (bridge, ports, interface) that DEL must be given: any later
Servin process can undo the ADD without knowing what the dead one was doing.
The cache lives under the data directory, as the leases it helps release.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from servin_core._dataclass import dataclass

__all__ = ["CacheEntry", "cache_root", "entries", "forget", "forget_all", "save"]


def cache_root(data_dir: Path) -> Path:
    return data_dir / "networks" / "cache"


@dataclass(frozen=True)
class CacheEntry:
    container_id: str
    network_id: str
    ifname: str
    netns: str
    conflist: dict[str, Any]
    result: dict[str, Any] | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "ifname": self.ifname,
                "netns": self.netns,
                "conflist": self.conflist,
                "result": self.result,
            }
        )


def _path(data_dir: Path, container_id: str, network_id: str) -> Path:
    return cache_root(data_dir) / container_id / f"{network_id}.json"


def save(data_dir: Path, entry: CacheEntry) -> None:
    path = _path(data_dir, entry.container_id, entry.network_id)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temp = path.with_suffix(".tmp")
    temp.write_text(entry.to_json())
    os.replace(temp, path)


def entries(data_dir: Path, container_id: str) -> Iterator[CacheEntry]:
    directory = cache_root(data_dir) / container_id
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return
    for name in names:
        if not name.endswith(".json"):
            continue
        try:
            data = json.loads((directory / name).read_text())
        except (OSError, ValueError):
            continue  # cut short before the rename: nothing was run yet
        yield CacheEntry(
            container_id,
            name.removesuffix(".json"),
            data["ifname"],
            data["netns"],
            data["conflist"],
            data["result"],
        )


def forget(data_dir: Path, container_id: str, network_id: str) -> None:
    _path(data_dir, container_id, network_id).unlink(missing_ok=True)


def forget_all(data_dir: Path, container_id: str) -> None:
    shutil.rmtree(cache_root(data_dir) / container_id, ignore_errors=True)
