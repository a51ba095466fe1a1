"""Version, Status, RuntimeConfig and UpdateRuntimeConfig: what kubelet asks
first, before it trusts the runtime with a pod.

Status must be truthful: kubelet schedules nothing while RuntimeReady is
false, and keeps pods needing a network pending while NetworkReady is.
"""

from __future__ import annotations

import json
import shutil
from importlib import metadata

from servin_core import log
from servin_cri.default_network import node_network
from servin_cri.node import RUNTIME_NAME, Node
from servin_cri.pb import api_pb2 as pb

__all__ = [
    "CRI_VERSION",
    "runtime_config",
    "status",
    "update_runtime_config",
    "version",
]

CRI_VERSION = "v1"
# Kubernetes' own API version string of the CRI (what containerd answers).
_KUBE_API_VERSION = "0.1.0"


def _servin_version() -> str:
    try:
        return metadata.version("servin")
    except metadata.PackageNotFoundError:
        return "0.1.0"


async def version(node: Node, request: pb.VersionRequest) -> pb.VersionResponse:
    return pb.VersionResponse(
        version=_KUBE_API_VERSION,
        runtime_name=RUNTIME_NAME,
        runtime_version=_servin_version(),
        runtime_api_version=CRI_VERSION,
    )


async def status(node: Node, request: pb.StatusRequest) -> pb.StatusResponse:
    # The runtime is ready when the core answers: this server runs on it.
    runtime = pb.RuntimeCondition(type="RuntimeReady", status=True)
    verdict = node_network(node)
    network = pb.RuntimeCondition(
        type="NetworkReady",
        status=verdict.ready,
        reason="" if verdict.ready else "NetworkPluginNotReady",
        message=verdict.reason,
    )
    response = pb.StatusResponse(
        status=pb.RuntimeStatus(conditions=[runtime, network]),
        # The default handler, and each OCI runtime by name (a pod's
        # runtime_handler picks one); crun and runc both take ``rro``
        # mounts. None offers user namespaces yet.
        runtime_handlers=[
            pb.RuntimeHandler(
                name=name,
                features=pb.RuntimeHandlerFeatures(recursive_read_only_mounts=True),
            )
            for name in ("", *(r for r in ("crun", "runc") if shutil.which(r)))
        ],
        features=pb.RuntimeFeatures(supplemental_groups_policy=True),
    )
    if request.verbose:
        response.info["config"] = json.dumps(
            {
                "cniConfDir": str(node.cni.conf_dir),
                "cniBinDirs": [str(d) for d in node.cni.bin_dirs],
                "cniConfig": str(verdict.path or verdict.name),
                "cgroupDriver": "cgroupfs",
                "podCIDR": node.pod_cidr,
                "defaultRuntime": node.core.config.default_runtime,
            }
        )
    return response


async def runtime_config(
    node: Node, request: pb.RuntimeConfigRequest
) -> pb.RuntimeConfigResponse:
    # Containers' cgroups are made by the OCI runtime under plain paths
    # (servin_core/containers/paths.py), not systemd units.
    return pb.RuntimeConfigResponse(
        linux=pb.LinuxRuntimeConfiguration(cgroup_driver=pb.CGROUPFS)
    )


async def update_runtime_config(
    node: Node, request: pb.UpdateRuntimeConfigRequest
) -> pb.UpdateRuntimeConfigResponse:
    cidr = request.runtime_config.network_config.pod_cidr
    if cidr and cidr != node.pod_cidr:
        node.pod_cidr = cidr
        # TODO: the default network's subnet comes from Servin's own
        # configuration (default_network_subnet), not from this range; a
        # node whose pods must use kubelet's CIDR needs a CNI configuration.
        log.for_object(log.cri, "node", "pod-cidr").info("pod CIDR is %s", cidr)
    return pb.UpdateRuntimeConfigResponse()
