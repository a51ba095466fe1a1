"""A pod joins the node's CNI network (the first usable configuration of
the CNI directory) and leaves it when stopped."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cri_kit import Cri, StartCri, eventually
from netconfig import SUBNET, session_config
from registry_fixtures import free_port

from servin_core.network.conflist import ipam_dir
from servin_cri.pb import api_pb2 as pb


@pytest.fixture
def bridge() -> Iterator[str]:
    name = "crit" + secrets.token_hex(3)
    yield name
    subprocess.run(["ip", "link", "del", name], capture_output=True)


async def test_a_pod_gets_an_address_the_host_reaches_and_gives_it_back(
    cri: Cri, published: list[str], bridge: str, tmp_path: Path
) -> None:
    subnet = f"10.{200 + secrets.randbelow(50)}.{secrets.randbelow(250)}"
    leases = tmp_path / "ipam"
    conflist = {
        "cniVersion": "1.0.0",
        "name": bridge,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": f"{subnet}.0/24"}]],
                    "dataDir": str(leases),
                },
            }
        ],
    }
    (cri.cni_dir / "10-pods.conflist").write_text(json.dumps(conflist))
    image = published[0]
    await cri.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=image)))

    meta = pb.PodSandboxMetadata(name="net", namespace="default", uid="uid-net")
    config = pb.PodSandboxConfig(metadata=meta, hostname="net")
    pod = (
        await cri.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config))
    ).pod_sandbox_id
    status = await cri.runtime.PodSandboxStatus(
        pb.PodSandboxStatusRequest(pod_sandbox_id=pod)
    )
    address = status.status.network.ip
    assert address.startswith(subnet + ".")
    # The pod's identity goes to the plugins (and is kept for the DEL).
    state = json.loads(
        (cri.core.config.run_dir / "pods" / pod / "cni.json").read_text()
    )
    assert "K8S_POD_NAMESPACE=default;K8S_POD_NAME=net" in state["args"]

    container = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="c"),
        image=pb.ImageSpec(image=image),
        command=["sh", "-c", "while true; do echo from-pod | nc -l -p 8080; done"],
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(pod_sandbox_id=pod, config=container)
    )
    await cri.runtime.StartContainer(
        pb.StartContainerRequest(container_id=created.container_id)
    )
    inside = await cri.runtime.ExecSync(
        pb.ExecSyncRequest(
            container_id=created.container_id, cmd=["ip", "-4", "addr", "show", "eth0"]
        )
    )
    assert f"inet {address}/24" in inside.stdout.decode()

    async def answer() -> bytes:
        try:
            reader, writer = await asyncio.open_connection(address, 8080)
        except OSError:
            return b""  # not listening yet
        data = await reader.read()
        writer.close()
        return data

    assert await eventually(answer, "the pod to answer on its address") == (
        b"from-pod\n"
    )

    await cri.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod))
    assert not (leases / bridge / address).exists()
    await cri.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod))


async def test_a_host_port_reaches_the_pod_through_portmap(
    cri: Cri, published: list[str], bridge: str, tmp_path: Path
) -> None:
    subnet = f"10.{200 + secrets.randbelow(50)}.{secrets.randbelow(250)}"
    conflist = {
        "cniVersion": "1.0.0",
        "name": bridge,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "isGateway": True,
                "ipMasq": True,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": f"{subnet}.0/24"}]],
                    "dataDir": str(tmp_path / "ipam"),
                    # Replies to the host's address leave by the bridge.
                    "routes": [{"dst": "0.0.0.0/0"}],
                },
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    }
    (cri.cni_dir / "10-pods.conflist").write_text(json.dumps(conflist))
    image = published[0]
    await cri.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=image)))
    host_port = free_port()

    config = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name="pm", namespace="default", uid="uid-pm"),
        hostname="pm",
        port_mappings=[pb.PortMapping(container_port=8080, host_port=host_port)],
    )
    pod = (
        await cri.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config))
    ).pod_sandbox_id
    container = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="c"),
        image=pb.ImageSpec(image=image),
        command=["sh", "-c", "while true; do echo via-port | nc -l -p 8080; done"],
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(pod_sandbox_id=pod, config=container)
    )
    await cri.runtime.StartContainer(
        pb.StartContainerRequest(container_id=created.container_id)
    )
    status = await cri.runtime.PodSandboxStatus(
        pb.PodSandboxStatusRequest(pod_sandbox_id=pod)
    )
    host = first_host_address(exclude=status.status.network.ip)

    async def answer() -> bytes:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(host, host_port), 2
            )
        except (OSError, TimeoutError):
            return b""
        data = await reader.read()
        writer.close()
        return data

    assert await eventually(answer, "the host port to reach the pod") == (b"via-port\n")
    await cri.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod))
    rules = subprocess.run(
        ["iptables-save", "-t", "nat"], capture_output=True, text=True, check=True
    ).stdout
    assert f"--dport {host_port}" not in rules
    await cri.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod))


def first_host_address(exclude: str) -> str:
    """An IPv4 address of this host outside loopback (portmap's DNAT
    matches traffic to the host's own addresses)."""
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "scope", "global"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in out.splitlines():
        address = line.split()[3].split("/")[0]
        if address != exclude:
            return address
    raise AssertionError("this host has no global IPv4 address")


async def test_an_empty_cni_directory_puts_pods_on_servins_default_network(
    start_cri: StartCri, published: list[str], tmp_path: Path
) -> None:
    cri = await start_cri(session_config(tmp_path / "unused"), fallback=True)
    ready = await cri.runtime.Status(pb.StatusRequest())
    network = {c.type: c for c in ready.status.conditions}["NetworkReady"]
    assert network.status is True

    image = published[0]
    await cri.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=image)))
    meta = pb.PodSandboxMetadata(name="dflt", namespace="default", uid="uid-dflt")
    config = pb.PodSandboxConfig(metadata=meta, hostname="dflt")
    pod = (
        await cri.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config))
    ).pod_sandbox_id
    status = await cri.runtime.PodSandboxStatus(
        pb.PodSandboxStatusRequest(pod_sandbox_id=pod)
    )
    address = status.status.network.ip
    assert ipaddress.ip_address(address) in ipaddress.ip_network(SUBNET)
    # The lease is in the allocator Servin's containers use, under the pod.
    lease = ipam_dir(cri.core.config.data_dir) / "servin" / address
    assert lease.read_text().split()[0] == pod
    # Outbound NAT is the network's one rule, not a chain of the pod's.
    nat = subprocess.run(
        ["iptables-save", "-t", "nat"], capture_output=True, text=True, check=True
    ).stdout
    assert f"-A SERVIN-POSTROUTING -s {SUBNET} " in nat
    assert pod[:12] not in nat

    await cri.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod))
    assert not lease.exists()
    await cri.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod))


async def test_a_failed_cni_add_leaves_no_pod_behind(cri: Cri, bridge: str) -> None:
    broken = {
        "cniVersion": "1.0.0",
        "name": bridge,
        "plugins": [
            {
                "type": "bridge",
                "bridge": bridge,
                "ipam": {"type": "host-local", "ranges": [[{"subnet": "nonsense"}]]},
            }
        ],
    }
    (cri.cni_dir / "10-broken.conflist").write_text(json.dumps(broken))
    meta = pb.PodSandboxMetadata(name="bad", namespace="default", uid="uid-bad")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.RunPodSandbox(
            pb.RunPodSandboxRequest(config=pb.PodSandboxConfig(metadata=meta))
        )

    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "invalid CIDR address: nonsense" in (caught.value.details() or "")
    assert (await cri.runtime.ListPodSandbox(pb.ListPodSandboxRequest())).items == []
    pods = cri.core.config.run_dir / "pods"
    assert list(pods.iterdir()) == []
    with open("/proc/mounts") as mounts:
        assert str(pods) not in mounts.read()
