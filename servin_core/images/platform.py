"""Platforms (``os/arch[/variant]``): parsing, the host's own, matching.

Names are normalized the way docker and containerd normalize them, so that
``x86_64`` is ``amd64``, ``aarch64`` and ``arm64/v8`` are ``arm64``, and
``arm`` without a variant is ``arm/v7``. A host can run images of older
variants of its architecture (an ``arm/v7`` machine runs ``arm/v6``), which
:meth:`Platform.rank` expresses: the exact variant ranks first.
"""

from __future__ import annotations

import platform as _platform
from collections.abc import Sequence
from typing import Any

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument, NotFound

__all__ = ["Platform", "host_platform", "normalize", "select_manifest"]

_ARCH_ALIASES = {
    "x86_64": ("amd64", None),
    "x86-64": ("amd64", None),
    "amd64": ("amd64", None),
    "aarch64": ("arm64", None),
    "arm64": ("arm64", None),
    "armhf": ("arm", "v7"),
    "armel": ("arm", "v6"),
    "i386": ("386", None),
    "i686": ("386", None),
}
_ARM_VARIANTS = ("v8", "v7", "v6", "v5")


def normalize(os_name: str, arch: str, variant: str | None) -> Platform:
    """The canonical spelling of ``os/arch/variant``."""
    os_name = os_name.lower()
    arch, variant = arch.lower(), (variant or "").lower() or None
    if variant and variant[0].isdigit():
        variant = "v" + variant
    canonical, implied = _ARCH_ALIASES.get(arch, (arch, None))
    variant = variant or implied
    if (canonical, variant) in (("arm64", "v8"), ("amd64", "v1")):
        variant = None  # the base variant is spelled without one
    elif canonical == "arm" and variant is None:
        variant = "v7"
    return Platform(os_name, canonical, variant)


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str | None = None

    @classmethod
    def parse(cls, text: str) -> Platform:
        """``linux/arm64``, ``linux/arm/v7``; a bare ``arm64`` means Linux."""
        parts = text.strip().split("/")
        if len(parts) == 1 and parts[0]:
            parts = ["linux", parts[0]]
        if not 2 <= len(parts) <= 3 or not all(parts):
            raise InvalidArgument("platform", text, "expected os/arch[/variant]")
        return normalize(parts[0], parts[1], parts[2] if len(parts) == 3 else None)

    @classmethod
    def from_descriptor(cls, value: Any) -> Platform | None:
        """The platform of an index entry, if it names one."""
        if not isinstance(value, dict):
            return None
        os_name, arch = value.get("os"), value.get("architecture")
        if not isinstance(os_name, str) or not isinstance(arch, str):
            return None
        variant = value.get("variant")
        return normalize(os_name, arch, variant if isinstance(variant, str) else None)

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        return f"{text}/{self.variant}" if self.variant else text

    def rank(self, candidate: Platform) -> int | None:
        """How well ``candidate`` runs here: 0 is exact, None is not at all."""
        if (candidate.os, candidate.architecture) != (self.os, self.architecture):
            return None
        if candidate.variant == self.variant:
            return 0
        if self.architecture in ("arm", "arm64"):
            mine = self.variant or "v8"
            theirs = candidate.variant or "v8"
            if theirs in _ARM_VARIANTS and mine in _ARM_VARIANTS:
                older = _ARM_VARIANTS.index(theirs) - _ARM_VARIANTS.index(mine)
                return older if older > 0 else None
        return None


def host_platform() -> Platform:
    """The platform this machine runs natively."""
    # TODO: the ARM variant of 32-bit hosts is assumed to be v7; reading it
    # from /proc/cpuinfo would recognise v6 and v8 machines running arm.
    return normalize(_platform.system(), _platform.machine(), None)


def select_manifest(
    entries: Sequence[Any], wanted: Platform, *, ident: str
) -> dict[str, Any]:
    """The index entry that best fits ``wanted``; NotFound naming what exists."""
    best: tuple[int, int] | None = None
    chosen: dict[str, Any] | None = None
    offered: list[str] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        candidate = Platform.from_descriptor(entry.get("platform"))
        if candidate is None or candidate.os == "unknown":
            continue  # attestations and other non-images
        offered.append(str(candidate))
        rank = wanted.rank(candidate)
        if rank is not None and (best is None or (rank, position) < best):
            best, chosen = (rank, position), entry
    if chosen is None:
        available = ", ".join(offered) or "none"
        raise NotFound("image", ident, f"no manifest for {wanted} (has: {available})")
    return chosen
