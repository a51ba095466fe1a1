"""What a container changed in its root file system (docker's ``diff``).

Everything the container wrote is in its overlay upper directory, so the
changes are read from there and compared with the image's layers (the
lower directories, top first), never from the mounted root: it works on a
stopped container too. overlayfs records a deletion as a whiteout (a 0:0
character device) and a directory whose lower contents were hidden (one
removed and made again) as an opaque directory (xattr
``trusted.overlay.opaque`` = ``y``).

The runtime makes an empty file or directory for each mount point the
image lacks (/etc/hosts, /etc/hostname, /etc/resolv.conf...); those are
Servin's, not the container's doing, and are left out as docker leaves
them out.

Paths in the layers are looked up one component at a time without
following symlinks, so a link in an image never leads the lookup out of
its layer.
"""

from __future__ import annotations

import asyncio
import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from servin_core._dataclass import dataclass
from servin_core.containers.paths import ContainerPaths

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["ADDED", "CHANGED", "DELETED", "Change", "diff"]

ADDED = "A"
CHANGED = "C"
DELETED = "D"
_OPAQUE = "trusted.overlay.opaque"


@dataclass(frozen=True, order=True)
class Change:
    path: str
    kind: str
    """A (added), C (changed) or D (deleted)."""


async def diff(core: Core, text: str) -> list[Change]:
    """The changes of container ``text`` against its image, by path."""
    container = core.containers.resolve(text)
    paths = ContainerPaths.of(core.config, container.id)
    lowers = [core.snapshots.path(chain_id) for chain_id in container.lowers]
    return await asyncio.to_thread(
        changes, paths.upper, lowers, _mount_points(paths.spec)
    )


def _mount_points(spec: Path) -> set[str]:
    try:
        mounts = json.loads(spec.read_text()).get("mounts") or []
    except (OSError, ValueError):
        return set()
    return {os.path.normpath(str(mount.get("destination", ""))) for mount in mounts}


def changes(
    upper: Path,
    lowers: list[Path],
    mount_points: set[str] | frozenset[str] = frozenset(),
) -> list[Change]:
    """The changes recorded in ``upper`` over ``lowers`` (top first), but
    for the empty mount points the runtime made."""
    found: list[Change] = []
    untouched: set[str] = set()
    if not upper.is_dir():
        return found
    for directory, dirs, files in os.walk(upper):
        for name in [*dirs, *files]:
            path = Path(directory) / name
            relative = "/" + str(path.relative_to(upper))
            info = os.lstat(path)
            if _is_whiteout(info):
                found.append(Change(relative, DELETED))
                continue
            original = _lookup(lowers, relative)
            made_by_runtime = relative in mount_points and _is_empty(path, info)
            if original is None and made_by_runtime:
                continue
            found.append(Change(relative, CHANGED if original else ADDED))
            if original is None or not stat.S_ISDIR(info.st_mode):
                continue
            if _is_opaque(path):
                kept = set(os.listdir(path))
                for child in sorted(_lower_children(lowers, relative) - kept):
                    found.append(Change(f"{relative}/{child}", DELETED))
            elif _same_owner_and_mode(info, original):
                untouched.add(relative)
    return _without_bare_parents(sorted(found), untouched)


def _same_owner_and_mode(info: os.stat_result, original: os.stat_result) -> bool:
    return (info.st_mode, info.st_uid, info.st_gid) == (
        original.st_mode,
        original.st_uid,
        original.st_gid,
    )


def _without_bare_parents(found: list[Change], untouched: set[str]) -> list[Change]:
    """Drop directories copied up only to hold what was left out (the
    runtime's mount points): unchanged themselves, nothing changed below."""
    below = {parent for change in found for parent in _parents(change.path)}
    return [c for c in found if c.path not in untouched or c.path in below]


def _parents(path: str) -> list[str]:
    parts = path.split("/")[1:-1]
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def _is_empty(path: Path, info: os.stat_result) -> bool:
    if stat.S_ISDIR(info.st_mode):
        return not os.listdir(path)
    return stat.S_ISREG(info.st_mode) and info.st_size == 0


def _is_whiteout(info: os.stat_result) -> bool:
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == 0


def _is_opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, _OPAQUE, follow_symlinks=False) == b"y"
    except OSError:
        return False


def _lookup(lowers: list[Path], relative: str) -> os.stat_result | None:
    """The entry at ``relative`` in the image's merged view, or None."""
    for layer in lowers:
        info, hidden = _in_layer(layer, relative)
        if info is not None:
            return None if _is_whiteout(info) else info
        if hidden:
            return None
    return None


def _in_layer(layer: Path, relative: str) -> tuple[os.stat_result | None, bool]:
    """``relative``'s entry in one layer; and whether the layer hides what
    lies beneath (an opaque or non-directory parent, a whited-out one)."""
    current = layer
    hidden = False
    parts = [part for part in relative.split("/") if part]
    for index, part in enumerate(parts):
        current = current / part
        try:
            info = os.lstat(current)
        except OSError:
            return None, hidden
        if index == len(parts) - 1:
            return info, hidden
        if not stat.S_ISDIR(info.st_mode):
            return None, True
        # An opaque directory hides deeper layers' contents below it.
        hidden = hidden or _is_opaque(current)
    return None, hidden


def _lower_children(lowers: list[Path], relative: str) -> set[str]:
    """Names in the image's directory ``relative``, whiteouts applied."""
    names: set[str] = set()
    hidden: set[str] = set()
    for layer in lowers:
        info, _ = _in_layer(layer, relative)
        if info is None or not stat.S_ISDIR(info.st_mode):
            break
        directory = layer / relative.lstrip("/")
        for name in os.listdir(directory):
            entry = os.lstat(directory / name)
            if _is_whiteout(entry):
                hidden.add(name)
            elif name not in hidden:
                names.add(name)
        if _is_opaque(directory):
            break
    return names
