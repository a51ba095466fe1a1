"""The local driver: a volume is a directory, ``VOLUMES/NAME/_data``.

docker's layout, so that a volume's data is where an administrator used to
docker looks for it. A volume made with driver options (``type``,
``device``, ``o``, as for mount(8)) is a mount instead: a tmpfs, a block
device, an NFS export or a bind of another directory; its directory holds no
data then.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from servin_core.errors import InvalidArgument
from servin_core.volumes.model import Volume

__all__ = ["LocalDriver"]

_OPTIONS = ("type", "device", "o")


class LocalDriver:
    """Volume directories under ``root`` (the data directory's ``volumes``)."""

    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def data(self, name: str) -> Path:
        """Where the volume's files are (docker's ``Mountpoint``)."""
        return self.root / name / "_data"

    @staticmethod
    def check_options(name: str, options: dict[str, str]) -> None:
        """Refuse options the local driver does not know, or an incomplete set."""
        for key in options:
            if key not in _OPTIONS:
                raise InvalidArgument(
                    "volume",
                    name,
                    f"invalid option {key!r} for the local driver"
                    " (type, device and o are)",
                )
        if options and not (options.get("type") and options.get("device")):
            raise InvalidArgument(
                "volume", name, "the local driver's options need both type and device"
            )

    def make(self, name: str) -> Path:
        """Make the volume's directory (again, if it went); its data path."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        (self.root / name).mkdir(mode=0o701, exist_ok=True)
        data = self.data(name)
        data.mkdir(mode=0o755, exist_ok=True)
        return data

    def make_new(self, name: str) -> Path:
        """Make the directory of a volume just recorded: whatever a removal
        cut short left under that name goes first, so no stale file shows."""
        self.remove(name)
        return self.make(name)

    def remove(self, name: str) -> None:
        shutil.rmtree(self.root / name, ignore_errors=True)

    def names(self) -> list[str]:
        """The volumes that have a directory."""
        try:
            return sorted(entry.name for entry in os.scandir(self.root))
        except FileNotFoundError:
            return []

    def size(self, name: str) -> int:
        """Bytes of the files in the volume (docker's ``Size``)."""
        total = 0
        for path in self.data(name).rglob("*"):
            try:
                if path.is_file() and not path.is_symlink():
                    total += path.lstat().st_size
            except OSError:
                continue
        return total

    def oci_mount(
        self, volume: Volume, target: str, options: list[str]
    ) -> dict[str, Any]:
        """The runtime spec's mount of ``volume`` at ``target``; ``options``
        are the container's (ro, propagation)."""
        kind = volume.options.get("type")
        if not kind:
            return {
                "destination": target,
                "type": "bind",
                "source": str(self.data(volume.name)),
                "options": ["rbind", *options],
            }

        # TODO: each container gets its own mount of an option volume, so a
        # tmpfs volume is not shared by two running containers as in docker;
        # sharing needs a host mount counted by its running users.
        extra = [o for o in volume.options.get("o", "").split(",") if o]
        if kind == "none" and "bind" in extra:
            extra = ["rbind", *(o for o in extra if o != "bind")]
            kind = "bind"
        return {
            "destination": target,
            "type": kind,
            "source": volume.options["device"],
            "options": [*extra, *options],
        }

    def is_plain(self, volume: Volume) -> bool:
        """Whether the volume's files are in its directory (not a mount)."""
        return not volume.options.get("type")
