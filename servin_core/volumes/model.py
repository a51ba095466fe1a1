"""What a volume is, and which names one may have.

A volume is a name, a driver (only ``local``), labels and driver options.
Anonymous volumes (``-v /path`` or an image's ``VOLUME``) get a random
64-hex-digit name, as docker gives them, and the label docker puts on them,
so that filters written for docker find them.
"""

from __future__ import annotations

import re
import secrets

from servin_core._dataclass import dataclass, field
from servin_core.errors import InvalidArgument

__all__ = [
    "ANONYMOUS_LABEL",
    "Volume",
    "check_volume_name",
    "new_anonymous_name",
]

ANONYMOUS_LABEL = "com.docker.volume.anonymous"
"""docker (23+) labels anonymous volumes with this key and an empty value."""

_NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")


def check_volume_name(name: str) -> str:
    """``name`` if docker would accept it as a volume name; InvalidArgument
    saying why not otherwise."""
    if "/" in name or "\\" in name:
        raise InvalidArgument(
            "volume name",
            name,
            "a volume name cannot contain a slash (a host path must be absolute)",
        )
    if not _NAME_RE.fullmatch(name):
        raise InvalidArgument(
            "volume name",
            name,
            "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed, at least two characters",
        )
    return name


def new_anonymous_name() -> str:
    return secrets.token_hex(32)


@dataclass(frozen=True, slots=True)
class Volume:
    """A volume as the store holds it."""

    name: str
    created: float
    driver: str = "local"
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)
    """Driver options (local: ``type``, ``device``, ``o``)."""
    anonymous: bool = False
