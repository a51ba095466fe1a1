"""One pod's life through the CRI, timed call by call on the client side.

The same requests go to both daemons: a pod with a name, namespace, UID and
log directory (what kubelet always sends), on the CNI network, and one
busybox container running ``sleep 3600``. Start is RunPodSandbox,
CreateContainer and StartContainer; teardown is StopPodSandbox and
RemovePodSandbox. Each call is timed with ``time.perf_counter`` around the
blocking gRPC call, so a figure is what a kubelet would wait.
"""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

from _daemons import Daemon

from servin_cri.pb import api_pb2 as pb

__all__ = ["START", "TEARDOWN", "PodRunner", "remove_every_pod"]

START = ("RunPodSandbox", "CreateContainer", "StartContainer")
TEARDOWN = ("StopPodSandbox", "RemovePodSandbox")
_TIMEOUT = 120.0


class PodRunner:
    """Starts and tears down the bench's pods on one daemon."""

    def __init__(self, daemon: Daemon, image: str, logs: Path, subnet: str) -> None:
        self.daemon = daemon
        self.image = image
        self.logs = logs
        self.subnet = ipaddress.ip_network(subnet)

    def pull(self) -> None:
        assert self.daemon.images is not None
        spec = pb.ImageSpec(image=self.image)
        self.daemon.images.PullImage(pb.PullImageRequest(image=spec), timeout=_TIMEOUT)

    def _config(self, name: str) -> pb.PodSandboxConfig:
        meta = pb.PodSandboxMetadata(
            name=name, namespace="bench", uid=f"uid-{self.daemon.name}-{name}"
        )
        return pb.PodSandboxConfig(
            metadata=meta,
            hostname=name,
            log_directory=str(self.logs / name),
            labels={"bench": "cri"},
        )

    def start(self, name: str) -> tuple[str, dict[str, float]]:
        """Run pod ``name`` with its container; its ID and each call's
        seconds."""
        runtime = self.daemon.runtime
        assert runtime is not None
        config = self._config(name)
        container = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="sleep"),
            image=pb.ImageSpec(image=self.image),
            command=["/bin/sleep", "3600"],
            log_path="sleep/0.log",
        )
        took: dict[str, float] = {}

        begin = time.perf_counter()
        pod = runtime.RunPodSandbox(
            pb.RunPodSandboxRequest(config=config), timeout=_TIMEOUT
        ).pod_sandbox_id
        took["RunPodSandbox"] = time.perf_counter() - begin

        begin = time.perf_counter()
        created = runtime.CreateContainer(
            pb.CreateContainerRequest(
                pod_sandbox_id=pod, config=container, sandbox_config=config
            ),
            timeout=_TIMEOUT,
        ).container_id
        took["CreateContainer"] = time.perf_counter() - begin

        begin = time.perf_counter()
        runtime.StartContainer(
            pb.StartContainerRequest(container_id=created), timeout=_TIMEOUT
        )
        took["StartContainer"] = time.perf_counter() - begin
        return pod, took

    def check_network(self, pod: str) -> str:
        """The pod's IP; RuntimeError unless it is in the bench's subnet
        (both runtimes must be on the one network)."""
        runtime = self.daemon.runtime
        assert runtime is not None
        status = runtime.PodSandboxStatus(
            pb.PodSandboxStatusRequest(pod_sandbox_id=pod), timeout=_TIMEOUT
        ).status
        address = str(status.network.ip)
        if not address or ipaddress.ip_address(address) not in self.subnet:
            raise RuntimeError(
                f"{self.daemon.name} pod {pod} has IP {address or 'none'},"
                f" not one of the bench's {self.subnet}"
            )
        return address

    def teardown(self, pod: str) -> dict[str, float]:
        """Stop and remove ``pod``; each call's seconds."""
        runtime = self.daemon.runtime
        assert runtime is not None
        took: dict[str, float] = {}

        begin = time.perf_counter()
        runtime.StopPodSandbox(
            pb.StopPodSandboxRequest(pod_sandbox_id=pod), timeout=_TIMEOUT
        )
        took["StopPodSandbox"] = time.perf_counter() - begin

        begin = time.perf_counter()
        runtime.RemovePodSandbox(
            pb.RemovePodSandboxRequest(pod_sandbox_id=pod), timeout=_TIMEOUT
        )
        took["RemovePodSandbox"] = time.perf_counter() - begin
        return took


def remove_every_pod(daemon: Daemon) -> int:
    """Stop and remove every pod the daemon lists (cleanup after a failure
    or Ctrl-C as after a run); how many there were."""
    runtime = daemon.runtime
    if runtime is None:
        return 0
    pods = runtime.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=_TIMEOUT).items
    for pod in pods:
        runtime.StopPodSandbox(
            pb.StopPodSandboxRequest(pod_sandbox_id=pod.id), timeout=_TIMEOUT
        )
        runtime.RemovePodSandbox(
            pb.RemovePodSandboxRequest(pod_sandbox_id=pod.id), timeout=_TIMEOUT
        )
    return len(pods)
