"""Servin's native API (``/servin/v1``) on the daemon's socket, read by a
real HTTP client (aiohttp over the unix socket), beside docker's API."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from api_daemon import Daemon
from netconfig import BRIDGE, config_file

URL = "http://servin/servin/v1"


@pytest.fixture
async def client(daemon: Daemon) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.UnixConnector(path=str(daemon.socket))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def get_json(client: aiohttp.ClientSession, path: str, status: int = 200) -> Any:
    async with client.get(URL + path) as reply:
        assert reply.status == status, await reply.text()
        assert reply.content_type == "application/json"
        return await reply.json()


async def event_lines(client: aiohttp.ClientSession, query: str) -> list[Any]:
    async with client.get(f"{URL}/events?{query}") as reply:
        assert reply.status == 200, await reply.text()
        return [json.loads(line) for line in (await reply.text()).splitlines()]


async def test_info_says_how_this_host_runs_containers(
    daemon: Daemon, busybox: str, client: aiohttp.ClientSession
) -> None:
    ident = daemon.docker_ok("create", busybox, "true").strip()
    runtime_used = json.loads(daemon.docker_ok("inspect", ident))[0]["HostConfig"][
        "Runtime"
    ]
    docker_info = json.loads(daemon.docker_ok("info", "--format", "{{json .}}"))

    info = await get_json(client, "/info")

    assert info["version"] == docker_info["ServerVersion"]
    assert info["data_dir"] == str(daemon.root)
    assert info["runtime"]["chosen"] == runtime_used
    assert runtime_used in info["runtime"]["reason"]
    # docker info agrees, and says so when the configured runtime is not used.
    assert docker_info["DefaultRuntime"] == runtime_used
    if runtime_used != info["runtime"]["configured"]:
        warned = " ".join(docker_info["Warnings"])
        assert info["runtime"]["configured"] in warned and runtime_used in warned
    assert str(info["cgroup"]["version"]) == docker_info["CgroupVersion"]
    hybrid = Path("/sys/fs/cgroup/unified/cgroup.controllers").exists()
    if info["cgroup"]["version"] == 1:
        assert info["cgroup"]["layout"] == ("hybrid" if hybrid else "legacy")
        assert "memory" in info["cgroup"]["controllers"]
    assert info["network"]["backend"] == "cni"
    assert info["network"]["default_bridge"] == BRIDGE


async def test_vm_state_says_why_there_is_none(
    daemon: Daemon, client: aiohttp.ClientSession
) -> None:
    vm = await get_json(client, "/vm")

    assert vm["available"] is False
    assert vm["state"] == "not available"
    assert "natively" in vm["reason"]


async def test_unknown_native_paths_and_pods_answer_404_with_a_message(
    daemon: Daemon, client: aiohttp.ClientSession
) -> None:
    missing_pod = await get_json(client, "/pods/abc123", status=404)
    missing_page = await get_json(client, "/nothing", status=404)
    bad_since = await get_json(client, "/events?since=yesterday", status=400)
    no_pods = await get_json(client, "/pods")

    assert "abc123" in missing_pod["message"]
    assert "no such pod sandbox" in missing_pod["message"]
    assert missing_page["message"]
    assert "since" in bad_since["message"]
    assert no_pods == []


async def test_events_are_the_tables_rows_with_their_detail(
    daemon: Daemon, busybox: str, client: aiohttp.ClientSession
) -> None:
    ident = daemon.docker_ok("create", "--name", "noted", busybox, "true").strip()
    daemon.docker_ok("rename", "noted", "renamed")

    rows = await event_lines(client, "")
    created = next(
        r for r in rows if r["actor_id"] == ident and r["action"] == "create"
    )
    later = await event_lines(client, f"after={created['seq']}")
    window = await event_lines(
        client, f"since={created['time']}&until={created['time']}"
    )
    daemon.docker_ok("network", "create", "noted-net")
    of_it = await event_lines(client, f"type=container&actor={ident[:12]}")
    networks = await event_lines(client, "type=network")

    assert [r["seq"] for r in rows] == sorted(r["seq"] for r in rows)
    assert created["type"] == "container"
    assert created["attributes"] == {"name": "noted", "image": busybox}
    assert isinstance(created["time"], float)
    rename = next(r for r in later if r["action"] == "rename")
    assert rename["attributes"] == {"name": "renamed", "oldName": "noted"}
    assert all(r["seq"] > created["seq"] for r in later)
    assert created in window
    assert [r["action"] for r in of_it] == ["create", "rename"]
    assert {r["type"] for r in networks} == {"network"}
    assert "noted-net" in [r["attributes"].get("name") for r in networks]
    daemon.docker_ok("network", "rm", "noted-net")


async def test_followed_events_send_headers_at_once_then_new_rows(
    daemon: Daemon, busybox: str, client: aiohttp.ClientSession
) -> None:
    daemon.docker_ok("create", "--name", "before", busybox, "true")

    async with client.get(f"{URL}/events?follow=1") as reply:
        # The headers came before any event: a client can show "waiting".
        status = reply.status
        await asyncio.to_thread(
            daemon.docker_ok, "create", "--name", "after", busybox, "true"
        )
        line = await asyncio.wait_for(reply.content.readline(), 60)

    row = json.loads(line)
    assert status == 200
    assert row["action"] == "create"
    assert row["attributes"]["name"] == "after"  # not the one from before


async def test_pods_list_the_cri_pods_with_their_containers(
    tmp_path: Path, busybox_rootfs_tar: Path
) -> None:
    import grpc

    from servin_cri.pb import api_pb2 as pb
    from servin_cri.pb import api_pb2_grpc

    # An empty CNI directory: the pod joins the session's own bridge, never
    # the host's networks in /etc/cni/net.d.
    net_d = tmp_path / "net.d"
    net_d.mkdir()
    config = tmp_path / "servin.toml"
    config.write_text(config_file().read_text() + f'cni_conf_dir = "{net_d}"\n')
    daemon = Daemon(tmp_path / "root", extra=("--config", str(config)))
    daemon.start()
    try:
        daemon.servin_ok("import", busybox_rootfs_tar, "busybox:latest")
        meta = pb.PodSandboxMetadata(name="web", namespace="shop", uid="u-1")
        pod_config = pb.PodSandboxConfig(
            metadata=meta,
            hostname="web-host",
            log_directory=str(tmp_path / "logs"),
            labels={"app": "web"},
        )
        socket = daemon.root / "run" / "cri.sock"
        async with grpc.aio.insecure_channel(f"unix:{socket}") as channel:
            runtime = api_pb2_grpc.RuntimeServiceStub(channel)
            pod = (
                await runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=pod_config))
            ).pod_sandbox_id
            try:
                created = await runtime.CreateContainer(
                    pb.CreateContainerRequest(
                        pod_sandbox_id=pod,
                        config=pb.ContainerConfig(
                            metadata=pb.ContainerMetadata(name="app"),
                            image=pb.ImageSpec(image="busybox:latest"),
                            command=["sleep", "600"],
                            log_path="app.log",
                        ),
                        sandbox_config=pod_config,
                    )
                )
                await runtime.StartContainer(
                    pb.StartContainerRequest(container_id=created.container_id)
                )

                connector = aiohttp.UnixConnector(path=str(daemon.socket))
                async with aiohttp.ClientSession(connector=connector) as client:
                    listed = await get_json(client, "/pods")
                    one = await get_json(client, f"/pods/{pod[:12]}")
            finally:
                await runtime.StopPodSandbox(
                    pb.StopPodSandboxRequest(pod_sandbox_id=pod)
                )
                await runtime.RemovePodSandbox(
                    pb.RemovePodSandboxRequest(pod_sandbox_id=pod)
                )
        connector = aiohttp.UnixConnector(path=str(daemon.socket))
        async with aiohttp.ClientSession(connector=connector) as client:
            pod_events = await event_lines(client, f"type=pod&actor={pod}")
            async with client.get(
                f"http://docker/events?since=1&until={time.time()}"
            ) as reply:
                body = await reply.text()
            docker_types = {json.loads(line)["Type"] for line in body.splitlines()}
    finally:
        daemon.stop()

    assert [p["id"] for p in listed] == [pod]
    assert one == listed[0]
    assert (one["name"], one["namespace"], one["uid"]) == ("web", "shop", "u-1")
    assert one["state"] == "ready"
    assert one["labels"] == {"app": "web"}
    [container] = one["containers"]
    assert container["id"] == created.container_id
    assert container["name"] == "app"
    assert container["state"] == "running"
    # The pod's life is in Servin's own events, and not in docker's, whose
    # clients know no pods.
    assert [(e["action"], e["attributes"]) for e in pod_events] == [
        (action, {"name": "web", "namespace": "shop"})
        for action in ("create", "start", "stop", "remove")
    ]
    assert "pod" not in docker_types
    assert "container" in docker_types
