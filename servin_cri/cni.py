"""Whether a CNI configuration is usable, as the Status RPC must report.

kubelet holds pods back while the runtime says its network is not ready, so
the answer has to be true: a configuration counts only if it parses and
every plugin it names is an executable in one of the plugin directories.
Files are taken in name order, the first usable one wins, as libcni does.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from servin_core._dataclass import dataclass, field

__all__ = [
    "DEFAULT_BIN_DIRS",
    "DEFAULT_CONF_DIR",
    "CniLocations",
    "NetworkVerdict",
    "find_network",
    "has_plugin",
]

DEFAULT_CONF_DIR = Path("/etc/cni/net.d")
# /opt/cni/bin is where Kubernetes installers put plugins; Debian's
# containernetworking-plugins installs them in /usr/lib/cni.
DEFAULT_BIN_DIRS = (Path("/opt/cni/bin"), Path("/usr/lib/cni"))
_SUFFIXES = (".conf", ".conflist", ".json")


@dataclass(frozen=True)
class CniLocations:
    """Where CNI configurations and plugins are looked for."""

    conf_dir: Path = DEFAULT_CONF_DIR
    bin_dirs: tuple[Path, ...] = field(default=DEFAULT_BIN_DIRS)
    fallback: bool = True
    """With no configuration at all in ``conf_dir``, pods join Servin's own
    default bridge network (see sandbox_network.py)."""


@dataclass(frozen=True)
class NetworkVerdict:
    """The first usable configuration, or why there is none."""

    ready: bool
    name: str = ""
    path: Path | None = None
    reason: str = ""
    empty: bool = False
    """The directory holds no configuration at all (not a broken one)."""
    fallback: bool = False
    """Ready through Servin's own default network, not a file."""


def _plugins(data: Any, path: Path) -> list[str]:
    """The plugin types a configuration names; ValueError if malformed."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if path.suffix == ".conflist" or "plugins" in data:
        plugins = data.get("plugins")
        if not isinstance(plugins, list) or not plugins:
            raise ValueError("a list with no plugins")
        types = [p.get("type") if isinstance(p, dict) else None for p in plugins]
    else:
        types = [data.get("type")]
    if not all(isinstance(t, str) and t for t in types):
        raise ValueError("a plugin without a type")
    return [str(t) for t in types]


def has_plugin(name: str, bin_dirs: tuple[Path, ...]) -> bool:
    return any(os.access(d / name, os.X_OK) for d in bin_dirs if "/" not in name)


def find_network(where: CniLocations) -> NetworkVerdict:
    """The verdict on ``where.conf_dir``: ready with the configuration's
    name and file, or not ready with a reason that names the problems."""
    try:
        files = sorted(p for p in where.conf_dir.iterdir() if p.suffix in _SUFFIXES)
    except OSError as e:
        return NetworkVerdict(False, reason=f"cannot read {where.conf_dir}: {e}")
    problems: list[str] = []

    for path in files:
        try:
            data = json.loads(path.read_bytes())
            types = _plugins(data, path)
        except (OSError, ValueError) as e:
            problems.append(f"{path.name}: {e}")
            continue
        missing = [t for t in types if not has_plugin(t, where.bin_dirs)]
        if missing:
            problems.append(f"{path.name}: no plugin {', '.join(missing)}")
            continue
        return NetworkVerdict(True, name=str(data.get("name", "")), path=path)

    if not problems:
        return NetworkVerdict(
            False, reason=f"no CNI configuration in {where.conf_dir}", empty=True
        )
    return NetworkVerdict(
        False,
        reason=f"no usable CNI configuration in {where.conf_dir}: "
        + "; ".join(problems),
    )
