"""A pod's network through CNI: ADD when the pod is made, DEL when it stops.

The configuration is the first usable one in the CNI directory, or
Servin's default network when the directory is empty (default_network.py
chooses, as Status reports it); the plugins run through
servin_core/network/cni.py against the pod's pinned namespace, with the
pod ID as the container ID and eth0 as the interface, as kubelet's other
runtimes do. The configuration and the ADD's result are kept in the pod's
directory, so that DEL gets what ADD was given even if the directory's
files change, and even from another Servin process.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from servin_core import log
from servin_core.errors import Unavailable
from servin_core.network.cni import CniRequest, run_list
from servin_cri.default_network import default_conflist, node_network
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = ["attach_pod", "detach_pod"]

_STATE = "cni.json"
_IFNAME = "eth0"
_PROTOCOLS = {pb.TCP: "tcp", pb.UDP: "udp", pb.SCTP: "sctp"}


def _conflist(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_bytes())
    if "plugins" in data:
        return data
    # A single plugin's .conf is a list of one.
    version = data.get("cniVersion", "0.4.0")
    return {"cniVersion": version, "name": data.get("name", ""), "plugins": [data]}


def _with_ports(
    conflist: dict[str, Any], ports: list[pb.PortMapping]
) -> dict[str, Any]:
    """Hand hostPort mappings to the plugins that ask for them (portmap's
    ``portMappings`` capability), as runtimeConfig."""
    mappings = [
        {
            "hostPort": p.host_port,
            "containerPort": p.container_port,
            "protocol": _PROTOCOLS.get(p.protocol, "tcp"),
            "hostIP": p.host_ip,
        }
        for p in ports
        if p.host_port > 0
    ]
    plugins = []
    for plugin in conflist["plugins"]:
        wants = (plugin.get("capabilities") or {}).get("portMappings")
        if wants and mappings:
            plugin = {**plugin, "runtimeConfig": {"portMappings": mappings}}
        plugins.append(plugin)
    return {**conflist, "plugins": plugins}


def _address(result: dict[str, Any]) -> str:
    """The pod's IPv4 address (without prefix) on eth0, else its first."""
    addresses = [
        str(ip.get("address", "")).split("/")[0] for ip in result.get("ips") or []
    ]
    v4 = [a for a in addresses if a and ":" not in a]
    return (v4 or addresses or [""])[0]


def _cni_args(pod_id: str, config: pb.PodSandboxConfig) -> str:
    """The pod's identity as kubelet's runtimes hand it to plugins (some
    IPAMs and meta plugins read it); IgnoreUnknown for those that do not."""
    meta = config.metadata
    return ";".join(
        [
            "IgnoreUnknown=1",
            f"K8S_POD_NAMESPACE={meta.namespace}",
            f"K8S_POD_NAME={meta.name}",
            f"K8S_POD_INFRA_CONTAINER_ID={pod_id}",
            f"K8S_POD_UID={meta.uid}",
        ]
    )


def attach_pod(
    node: Node, pod_id: str, config: pb.PodSandboxConfig, directory: Path
) -> str:
    """ADD the pod's namespace to the node's CNI network; its address, or ""
    when no configuration is usable (the pod keeps loopback only)."""
    verdict = node_network(node)
    logger = log.for_object(log.cri, "pod", pod_id)
    if not verdict.ready:
        logger.warning("no pod network: %s", verdict.reason)
        return ""
    try:
        chosen = (
            default_conflist(node) if verdict.path is None else _conflist(verdict.path)
        )
    except (OSError, ValueError) as e:
        raise Unavailable("pod sandbox", pod_id, f"{verdict.path}: {e}") from e
    conflist = _with_ports(chosen, list(config.port_mappings))
    netns = str(directory / "ns" / "net")
    args = _cni_args(pod_id, config)
    request = CniRequest(pod_id, netns, _IFNAME, conflist.get("name", ""), args)

    state = directory / _STATE
    # Saved before the ADD, so that a DEL follows a half-done ADD.
    _save(state, {"conflist": conflist, "args": args, "result": None})
    result = run_list("ADD", request, conflist)
    _save(state, {"conflist": conflist, "args": args, "result": result})
    address = _address(result)
    logger.info("joined CNI network %s as %s", conflist.get("name"), address)
    return address


def detach_pod(node: Node, pod_id: str, directory: Path) -> None:
    """DEL what :func:`attach_pod` added; nothing if it added nothing."""
    state = directory / _STATE
    try:
        saved = json.loads(state.read_bytes())
    except FileNotFoundError:
        return
    conflist = dict(saved["conflist"])
    if saved.get("result") is not None:
        conflist["prevResult"] = saved["result"]
    netns = str(directory / "ns" / "net")
    args = str(saved.get("args", ""))
    request = CniRequest(pod_id, netns, _IFNAME, conflist.get("name", ""), args)
    run_list("DEL", request, conflist)
    state.unlink(missing_ok=True)
    log.for_object(log.cri, "pod", pod_id).info("left CNI network")


def _save(path: Path, data: dict[str, Any]) -> None:
    temp = path.with_name(path.name + ".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(temp, path)
