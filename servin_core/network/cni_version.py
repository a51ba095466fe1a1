"""Which CNI version to speak with the plugins installed.

Servin writes 1.0.0 configurations; an administrator's older plugins in
/opt/cni/bin may speak only up to 0.4.0, and refuse a 1.0.0 configuration.
The plugins' VERSION answers decide, once per set of plugin files: the
answer is kept under the data directory with the files' sizes and times,
so a start costs a few ``stat`` calls, and an upgrade asks again.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from servin_core.network.cni import PLUGIN_DIRS, CniError, find_plugin, version

__all__ = ["PREFERRED", "negotiate"]

PREFERRED = ("1.0.0", "0.4.0", "0.3.1")
"""The versions Servin's configurations are valid in, best first."""


def _key(plugins: Sequence[str], network: str, dirs: Sequence[Path]) -> str:
    parts = []
    for plugin in plugins:
        path = find_plugin(plugin, network, dirs)
        info = path.stat()
        parts.append(f"{path}:{info.st_size}:{info.st_mtime_ns}")
    return "|".join(parts)


def negotiate(
    plugins: Sequence[str],
    cache: Path,
    network: str,
    dirs: Sequence[Path] = PLUGIN_DIRS,
) -> str:
    """The best version every one of ``plugins`` supports; CniError naming
    ``network`` if they share none Servin writes."""
    key = _key(plugins, network, dirs)
    try:
        known = json.loads(cache.read_text())
        if known.get("key") == key:
            return str(known["version"])
    except (OSError, ValueError, AttributeError):
        pass

    shared = set(PREFERRED)
    for plugin in plugins:
        shared &= set(version(plugin, dirs).get("supportedVersions") or [])
    chosen = next((v for v in PREFERRED if v in shared), None)
    if chosen is None:
        raise CniError(
            "network",
            network,
            f"the CNI plugins {', '.join(plugins)} share no version Servin"
            f" writes ({', '.join(PREFERRED)})",
        )
    cache.parent.mkdir(parents=True, exist_ok=True)
    # Threads of one process (a daemon's concurrent starts) write it too.
    temp = cache.with_name(f"{cache.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temp.write_text(json.dumps({"key": key, "version": chosen}))
    os.replace(temp, cache)
    return chosen
