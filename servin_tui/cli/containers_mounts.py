"""``-v``/``--volume``, ``--mount`` and ``--tmpfs``, parsed into Mounts.

Three syntaxes for one thing, all docker's: ``-v [SRC:]DST[:OPTS]`` (SRC
a host path makes a bind mount, a name a named volume, none an anonymous
volume), ``--mount type=...,source=...,target=...[,readonly]``, and
``--tmpfs DST[:OPTS]``. Each is checked here so that a typo fails before a
container exists.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from servin_core.errors import InvalidArgument

if TYPE_CHECKING:
    from servin_core.containers.model import Mount

__all__ = ["parse_mount", "parse_mounts", "parse_tmpfs", "parse_volume"]

_VOLUME_NAME_RE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]+")
_PROPAGATION = frozenset(
    {"shared", "slave", "private", "rshared", "rslave", "rprivate"}
)
_VOLUME_MODES = frozenset(
    {"ro", "rw", "z", "Z", "nocopy", "consistent", "cached", "delegated"}
)
_TRUE = frozenset({"", "1", "true"})
_FALSE = frozenset({"0", "false"})


def parse_mounts(
    volumes: Iterable[str], mounts: Iterable[str], tmpfs: Iterable[str]
) -> list[Mount]:
    """Every mount asked for; two at one destination are refused."""
    result = [parse_volume(text) for text in volumes]
    result += [parse_mount(text) for text in mounts]
    result += [parse_tmpfs(text) for text in tmpfs]

    seen: set[str] = set()
    for mount in result:
        if mount.target in seen:
            raise InvalidArgument("mount point", mount.target, "is given twice")
        seen.add(mount.target)
    return result


def parse_volume(text: str) -> Mount:
    """``-v``: ``DST``, ``SRC:DST`` or ``SRC:DST:OPTS``."""
    from servin_core.containers.model import Mount

    parts = text.split(":")
    if len(parts) > 3 or not all(parts):
        raise InvalidArgument("volume", text, "expected [SOURCE:]DESTINATION[:OPTIONS]")
    if len(parts) == 1:
        return Mount(type="volume", target=_target("volume", text, parts[0]))

    source, target = parts[0], _target("volume", text, parts[1])
    modes = parts[2].split(",") if len(parts) == 3 else []
    for mode in modes:
        if mode not in _VOLUME_MODES | _PROPAGATION:
            raise InvalidArgument("volume", text, f"invalid mode {mode!r}")
    if "ro" in modes and "rw" in modes:
        raise InvalidArgument("volume", text, "ro and rw exclude each other")
    options = tuple(mode for mode in modes if mode not in ("ro", "rw"))

    if source.startswith(("/", ".")):
        # As docker's CLI: ./dir is the working directory's; a missing
        # directory is made at start.
        return Mount(
            type="bind",
            source=os.path.abspath(source),
            target=target,
            read_only="ro" in modes,
            options=options,
            create_source=True,
        )
    if "/" in source:
        raise InvalidArgument(
            "volume",
            text,
            f"{source!r} is a relative host path (a bind source must be"
            " absolute) or a volume name with a slash (not allowed)",
        )
    if not _VOLUME_NAME_RE.fullmatch(source):
        raise InvalidArgument(
            "volume",
            text,
            f"{source!r} is neither an absolute path nor a volume name"
            " ([a-zA-Z0-9][a-zA-Z0-9_.-]+)",
        )
    return Mount(
        type="volume",
        source=source,
        target=target,
        read_only="ro" in modes,
        options=options,
    )


def parse_mount(text: str) -> Mount:
    """``--mount``: comma-separated ``key=value`` fields (docker's names)."""
    from servin_core.containers.model import Mount

    fields: dict[str, str] = {}
    repeated: dict[str, list[str]] = {"volume-opt": [], "volume-label": []}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not key:
            raise InvalidArgument("mount", text, "empty field")
        if key in repeated:
            repeated[key].append(value)
            continue
        if key in fields:
            raise InvalidArgument("mount", text, f"field {key!r} is given twice")
        fields[key] = value if sep else ""

    kind = fields.pop("type", "volume")
    if kind not in ("bind", "volume", "tmpfs"):
        raise InvalidArgument("mount", text, f"unsupported type {kind!r}")
    source = _pop_any(fields, "source", "src")
    target = _pop_any(fields, "target", "destination", "dst")
    if target is None:
        raise InvalidArgument("mount", text, "a target is required")
    read_only = _flag(text, _pop_any(fields, "readonly", "ro"))

    options: list[str] = []
    if kind == "bind":
        if not source:
            raise InvalidArgument("mount", text, "a bind mount needs a source")
        if not os.path.isabs(source):
            raise InvalidArgument(
                "mount", text, f"the bind source {source!r} is not an absolute path"
            )
        if not os.path.exists(source):
            raise InvalidArgument(
                "mount", text, f"bind source path does not exist: {source}"
            )
        propagation = fields.pop("bind-propagation", None)
        if propagation is not None:
            if propagation not in _PROPAGATION:
                raise InvalidArgument(
                    "mount", text, f"invalid propagation {propagation!r}"
                )
            options.append(propagation)
    elif kind == "volume":
        if source and "/" in source:
            raise InvalidArgument(
                "mount", text, f"invalid volume name {source!r}: it has a slash"
            )
        if source and not _VOLUME_NAME_RE.fullmatch(source):
            raise InvalidArgument("mount", text, f"invalid volume name {source!r}")
        if _flag(text, fields.pop("volume-nocopy", None)):
            options.append("nocopy")
        if fields.pop("volume-driver", "local") not in ("", "local"):
            raise InvalidArgument("mount", text, "only the local volume driver exists")
        for option in repeated["volume-opt"]:
            if "=" not in option:
                raise InvalidArgument("mount", text, f"volume-opt {option!r}: no =")
    else:
        if source:
            raise InvalidArgument("mount", text, "a tmpfs mount takes no source")
        for key, option in (("tmpfs-size", "size"), ("tmpfs-mode", "mode")):
            if key in fields:
                options.append(f"{option}={fields.pop(key)}")

    fields.pop("consistency", None)  # macOS only: ignored, as on Linux docker
    if kind != "volume":
        fields |= {key: "" for key, values in repeated.items() if values}
    if fields:
        raise InvalidArgument(
            "mount", text, f"unknown field {sorted(fields)[0]!r} for type {kind}"
        )
    return Mount(
        type=kind,  # type: ignore[arg-type]
        source=source or "",
        target=_target("mount", text, target),
        read_only=read_only,
        options=tuple(options),
        volume_options=tuple(repeated["volume-opt"]),
        volume_labels=tuple(repeated["volume-label"]),
    )


def parse_tmpfs(text: str) -> Mount:
    """``--tmpfs DST[:OPTIONS]`` where OPTIONS are mount(8) options."""
    from servin_core.containers.model import Mount

    target, _, options = text.partition(":")
    parts = tuple(option for option in options.split(",") if option)
    return Mount(
        type="tmpfs",
        target=_target("tmpfs", text, target),
        read_only="ro" in parts,
        options=tuple(option for option in parts if option not in ("ro", "rw")),
    )


def _target(kind: str, text: str, target: str) -> str:
    if not target.startswith("/"):
        raise InvalidArgument(kind, text, "the destination must be an absolute path")
    target = os.path.normpath(target)
    if target == "/":
        raise InvalidArgument(kind, text, "the destination cannot be /")
    return target


def _pop_any(fields: dict[str, str], *keys: str) -> str | None:
    found = [fields.pop(key) for key in keys if key in fields]
    return found[0] if found else None


def _flag(text: str, value: str | None) -> bool:
    """A boolean field: absent or false is False; bare, true or 1 is True."""
    if value is None or value.lower() in _FALSE:
        return False
    if value.lower() in _TRUE:
        return True
    raise InvalidArgument("mount", text, f"{value!r} is not a boolean")
