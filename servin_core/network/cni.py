"""Running CNI plugins: the protocol, nothing of Servin's state.

A plugin is an executable found on the plugin path; it reads its network
configuration as JSON on stdin, takes the request in environment variables
(``CNI_COMMAND``, ``CNI_CONTAINERID``, ``CNI_NETNS``, ``CNI_IFNAME``,
``CNI_PATH``) and answers with a result, or an error object, on stdout. A
configuration list runs its plugins in order for ADD and CHECK, each given
the previous plugin's result as ``prevResult``, and in reverse for DEL.
DEL must succeed on what is already gone: plugins are written so, and a
failed DEL is reported rather than stopping the others.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from servin_core._dataclass import dataclass
from servin_core.errors import Unavailable

__all__ = [
    "PLUGIN_DIRS",
    "CniError",
    "CniRequest",
    "find_plugin",
    "plugin_path",
    "run_list",
    "version",
]

PLUGIN_DIRS = (Path("/opt/cni/bin"), Path("/usr/lib/cni"), Path("/usr/libexec/cni"))
"""Searched in order: an administrator's plugins before Debian's."""

_TIMEOUT = 60.0


class CniError(Unavailable):
    """A plugin failed; ``reason`` holds its own message."""


@dataclass(frozen=True)
class CniRequest:
    """What stays the same across the plugins of one list."""

    container_id: str
    netns: str
    ifname: str
    network: str
    """The network's name, for error messages."""
    args: str = ""
    """CNI_ARGS, ``KEY=VALUE;...`` (kubelet's runtimes pass the pod's
    namespace and name this way); empty for none."""


def plugin_path() -> str:
    return os.pathsep.join(str(d) for d in PLUGIN_DIRS if d.is_dir())


def find_plugin(plugin: str, network: str, dirs: Sequence[Path] = PLUGIN_DIRS) -> Path:
    """The plugin's executable, first found in ``dirs``; CniError naming
    ``network`` if there is none."""
    for directory in dirs:
        candidate = directory / plugin
        if os.access(candidate, os.X_OK):
            return candidate
    raise CniError(
        "network",
        network,
        f"CNI plugin {plugin} not found in {', '.join(map(str, dirs))}",
    )


def _invoke(
    command: str,
    request: CniRequest,
    config: dict[str, Any],
    dirs: Sequence[Path] = PLUGIN_DIRS,
) -> dict[str, Any]:
    plugin = str(config["type"])
    env = {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "CNI_COMMAND": command,
        "CNI_CONTAINERID": request.container_id,
        "CNI_NETNS": request.netns,
        "CNI_IFNAME": request.ifname,
        "CNI_PATH": plugin_path(),
    }
    if request.args:
        env["CNI_ARGS"] = request.args
    try:
        done = subprocess.run(
            [str(find_plugin(plugin, request.network, dirs))],
            input=json.dumps(config).encode(),
            env=env,
            capture_output=True,
            timeout=_TIMEOUT,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CniError("network", request.network, f"{plugin} {command}: {e}") from e
    if done.returncode != 0:
        raise CniError(
            "network", request.network, f"{plugin} {command}: {_message(done)}"
        )
    if not done.stdout.strip():
        return {}
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


def _message(done: subprocess.CompletedProcess[bytes]) -> str:
    """The plugin's error object's words, else whatever it printed."""
    try:
        error = json.loads(done.stdout)
        text = str(error.get("msg") or "")
        if error.get("details"):
            text += f" ({error['details']})"
        if text:
            return text
    except (ValueError, AttributeError):
        pass
    output = (done.stderr or done.stdout).decode(errors="replace").strip()
    return output or f"exit status {done.returncode}"


def _plugin_config(
    conflist: dict[str, Any], plugin: dict[str, Any], previous: dict[str, Any] | None
) -> dict[str, Any]:
    config = {**plugin, "cniVersion": conflist["cniVersion"], "name": conflist["name"]}
    if previous is not None:
        config["prevResult"] = previous
    return config


def run_list(
    command: str, request: CniRequest, conflist: dict[str, Any]
) -> dict[str, Any]:
    """Run ``command`` (ADD, CHECK or DEL) through every plugin of
    ``conflist``; the last result of an ADD. ``prevResult`` for CHECK and
    DEL is ``conflist["prevResult"]``, the cached result of the ADD."""
    plugins: Sequence[dict[str, Any]] = conflist["plugins"]
    if command == "ADD":
        result: dict[str, Any] | None = None
        for plugin in plugins:
            result = _invoke("ADD", request, _plugin_config(conflist, plugin, result))
        return result or {}

    cached = conflist.get("prevResult")
    if command == "CHECK":
        for plugin in plugins:
            _invoke("CHECK", request, _plugin_config(conflist, plugin, cached))
        return cached or {}

    failures: list[str] = []
    for plugin in reversed(plugins):
        try:
            _invoke("DEL", request, _plugin_config(conflist, plugin, cached))
        except CniError as e:
            failures.append(e.reason)
    if failures:
        raise CniError("network", request.network, "; ".join(failures))
    return {}


def version(plugin: str, dirs: Sequence[Path] = PLUGIN_DIRS) -> dict[str, Any]:
    """The plugin's VERSION answer (its supported CNI versions)."""
    request = CniRequest("", "", "", plugin)
    config = {"type": plugin, "cniVersion": "1.0.0"}
    return _invoke("VERSION", request, config, dirs)
