"""Helpers for the CRI tests: the running server and its client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from servin_core.config import Config
from servin_core.core import Core
from servin_core.registry.auth import Credentials
from servin_cri.pb import api_pb2 as pb
from servin_cri.pb import api_pb2_grpc
from servin_cri.server import CriServer

T = TypeVar("T")


@dataclass
class Cri:
    """A running server and a client of it."""

    server: CriServer
    core: Core
    runtime: api_pb2_grpc.RuntimeServiceStub
    images: api_pb2_grpc.ImageServiceStub
    cni_dir: Path


StartCri = Callable[..., Awaitable[Cri]]


async def publish_busybox(
    seed_root: Path,
    rootfs_tar: Path,
    references: list[str],
    credentials: Credentials | None = None,
) -> None:
    """Push the busybox root file system as an image named ``references``
    (in one registry), from a Core of its own in ``seed_root``."""
    from servin_core.images.importer import import_image
    from servin_core.images.push import push
    from servin_core.images.reference import parse_reference
    from servin_core.registry import credentials as stored

    with Core.open(Config().with_root(seed_root)) as seed:
        if credentials is not None:
            domain = parse_reference(references[0]).domain
            stored.store(seed.config, domain, credentials)
        with rootfs_tar.open("rb") as base:
            image = await import_image(seed, base, references[0])
        for reference in references:
            seed.images.tag(image, parse_reference(reference))
            await push(seed, reference)


async def eventually(
    probe: Callable[[], Awaitable[T]], what: str, timeout: float = 60.0
) -> T:
    """Await ``probe`` until it gives something true (a deadline for a
    broken test, not a performance threshold)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def remove_every_pod(cri: Cri) -> None:
    """Stop and remove every pod (test teardown)."""
    from servin_cri.pb import api_pb2 as pb

    for pod in (await cri.runtime.ListPodSandbox(pb.ListPodSandboxRequest())).items:
        await cri.runtime.StopPodSandbox(
            pb.StopPodSandboxRequest(pod_sandbox_id=pod.id)
        )
        await cri.runtime.RemovePodSandbox(
            pb.RemovePodSandboxRequest(pod_sandbox_id=pod.id)
        )


def pod_config(tmp_path: Path, name: str = "web") -> pb.PodSandboxConfig:
    meta = pb.PodSandboxMetadata(name=name, namespace="default", uid=f"uid-{name}")
    dns = pb.DNSConfig(
        servers=["10.96.0.10"],
        searches=["default.svc.cluster.local"],
        options=["ndots:5"],
    )
    return pb.PodSandboxConfig(
        metadata=meta,
        hostname=f"{name}-host",
        log_directory=str(tmp_path / "pod-logs" / name),
        dns_config=dns,
        labels={"app": name},
        annotations={"note": "servin test"},
    )


async def run_pod(cri: Cri, config: pb.PodSandboxConfig) -> str:
    answer = await cri.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config))
    return answer.pod_sandbox_id


async def start_container(
    cri: Cri,
    pod: str,
    pod_config: pb.PodSandboxConfig,
    image: str,
    name: str,
    *command: str,
) -> str:
    config = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name),
        image=pb.ImageSpec(image=image),
        command=list(command),
        log_path=f"{name}/0.log",
        labels={"container": name},
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(
            pod_sandbox_id=pod, config=config, sandbox_config=pod_config
        )
    )
    await cri.runtime.StartContainer(
        pb.StartContainerRequest(container_id=created.container_id)
    )
    return created.container_id


async def exec_sync(cri: Cri, container: str, *cmd: str) -> pb.ExecSyncResponse:
    return await cri.runtime.ExecSync(
        pb.ExecSyncRequest(container_id=container, cmd=list(cmd), timeout=60)
    )
