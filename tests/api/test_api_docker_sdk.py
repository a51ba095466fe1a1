"""The docker SDK for Python against Servin's socket, as scripts use it."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest
from api_daemon import Daemon
from docker.errors import ImageNotFound, NotFound
from registry_fixtures import RegistryServer, unique_repo


@pytest.fixture
def client(daemon: Daemon) -> Iterator[docker.DockerClient]:
    c = docker.DockerClient(base_url=f"unix://{daemon.socket}", timeout=120)
    try:
        yield c
    finally:
        c.close()


def test_containers_run_returns_the_output(
    client: docker.DockerClient, busybox: str
) -> None:
    output = client.containers.run(busybox, ["echo", "from the sdk"], remove=True)

    assert output == b"from the sdk\n"
    assert client.containers.list(all=True) == []


def test_run_detached_logs_exec_wait_remove(
    client: docker.DockerClient, busybox: str
) -> None:
    container = client.containers.run(
        busybox,
        ["sh", "-c", "echo one; echo two >&2; sleep 300"],
        detach=True,
        name="sdk",
    )
    container.reload()

    executed = container.exec_run(["sh", "-c", "echo inside; exit 2"])
    both = container.exec_run(
        ["sh", "-c", "echo o; echo e >&2"], stdout=True, stderr=True, demux=True
    )
    container.kill()
    waited = container.wait()
    logs = container.logs(stdout=True, stderr=False)
    container.remove()

    assert container.attrs["State"]["Status"] == "running"
    assert executed.exit_code == 2
    assert executed.output == b"inside\n"
    assert both.output == (b"o\n", b"e\n")
    assert waited["StatusCode"] == 137
    assert logs == b"one\n"
    with pytest.raises(NotFound):
        client.containers.get("sdk")


def test_image_not_found_then_pull_tag_and_remove(
    client: docker.DockerClient,
    daemon: Daemon,
    busybox: str,
    registry: RegistryServer,
) -> None:
    remote = f"{registry.host}/{unique_repo('sdk')}/busybox"
    daemon.servin_ok("tag", busybox, f"{remote}:1")
    daemon.servin_ok("push", f"{remote}:1")
    daemon.servin_ok("rmi", f"{remote}:1")

    with pytest.raises(ImageNotFound):
        client.images.get(f"{remote}:1")
    pulled = client.images.pull(remote, tag="1")
    pulled.tag(remote, "copy")
    tags = client.images.get(pulled.id).tags
    client.images.remove(f"{remote}:copy")

    assert f"{remote}:1" in tags and f"{remote}:copy" in tags
    # The pulled image is the local busybox's own (same content, same ID).
    assert sorted(client.images.get(pulled.id).tags) == sorted([busybox, f"{remote}:1"])


def test_networks_volumes_and_ports_chosen_by_the_server(
    client: docker.DockerClient, busybox: str
) -> None:
    network = client.networks.create("sdk-net")
    volume = client.volumes.create("sdk-vol", labels={"made": "sdk"})
    client.containers.run(
        busybox,
        ["sh", "-c", "echo saved > /data/f"],
        volumes={"sdk-vol": {"bind": "/data", "mode": "rw"}},
        remove=True,
    )
    container = client.containers.run(
        busybox,
        ["sleep", "300"],
        detach=True,
        network="sdk-net",
        volumes={"sdk-vol": {"bind": "/data", "mode": "rw"}},
        ports={"80/tcp": None},
    )
    container.reload()
    network.reload()

    ports = container.attrs["NetworkSettings"]["Ports"]["80/tcp"]
    on_network = [c.id for c in network.containers]
    read = client.containers.run(
        busybox, ["cat", "/data/f"], volumes={"sdk-vol": {"bind": "/data"}}, remove=True
    )
    container.remove(force=True)
    network.remove()
    volume.remove()

    assert int(ports[0]["HostPort"]) > 0
    assert on_network == [container.id]
    assert read == b"saved\n"
    assert "sdk-net" not in [n.name for n in client.networks.list()]
    assert "sdk-vol" not in [v.name for v in client.volumes.list()]


def test_container_update_changes_limits_and_restart_policy(
    client: docker.DockerClient, busybox: str
) -> None:
    container = client.containers.run(busybox, ["sleep", "300"], detach=True)

    answer = container.update(
        mem_limit="50m", cpu_shares=256, restart_policy={"Name": "always"}
    )
    container.reload()

    assert answer == {"Warnings": []}
    host = container.attrs["HostConfig"]
    assert host["Memory"] == 50 * 1024 * 1024
    assert host["CpuShares"] == 256
    assert host["RestartPolicy"]["Name"] == "always"


def test_create_with_a_log_config_and_groups_reads_them_back(
    client: docker.DockerClient, busybox: str
) -> None:
    log_config = docker.types.LogConfig(type="json-file", config={"max-size": "1m"})
    container = client.containers.create(
        busybox, ["true"], log_config=log_config, group_add=["4242", "nogroup"]
    )
    with pytest.raises(docker.errors.APIError, match="max-file=2: conmon keeps one"):
        client.containers.create(
            busybox,
            ["true"],
            log_config=docker.types.LogConfig(
                type="json-file", config={"max-file": "2"}
            ),
        )
    host = container.attrs["HostConfig"]

    assert host["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-size": "1000000"},  # 1m: docker counts in 1000s
    }
    assert host["GroupAdd"] == ["4242", "nogroup"]
    assert [c.id for c in client.containers.list(all=True)] == [container.id]
