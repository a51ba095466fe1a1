"""The Pods panel: pod sandboxes made by a real CRI client over gRPC, shown
by the TUI on the same store; without pods it says where they come from;
the CRI's modules are not loaded until the panel is shown."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from app_harness import make_app, root_config, until

from servin_core.config import Config
from servin_core.core import Core
from servin_core.images.importer import import_image
from servin_cri.cni import CniLocations
from servin_cri.pb import api_pb2 as pb
from servin_cri.pb import api_pb2_grpc
from servin_cri.server import CriServer
from servin_tui.app.pods import PodsPanel


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
async def runtime(
    config: Config, tmp_path: Path
) -> AsyncIterator[api_pb2_grpc.RuntimeServiceStub]:
    """A CRI server on its own core over the app's store (another process
    would do the same), and a client of it; pods keep loopback only."""
    socket_dir = Path(tempfile.mkdtemp(prefix="cri-", dir="/tmp"))
    core = Core.open(config)
    cni_dir = tmp_path / "net.d"
    cni_dir.mkdir()
    cni = CniLocations(conf_dir=cni_dir, fallback=False)
    server = CriServer(core, socket_dir / "cri.sock", cni=cni)
    await server.start()
    channel = grpc.aio.insecure_channel(f"unix:{server.socket_path}")
    client = api_pb2_grpc.RuntimeServiceStub(channel)
    try:
        yield client
    finally:
        listed = await client.ListPodSandbox(pb.ListPodSandboxRequest())
        for pod in listed.items:
            await client.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod.id))
            await client.RemovePodSandbox(
                pb.RemovePodSandboxRequest(pod_sandbox_id=pod.id)
            )
        await channel.close()
        await server.stop()
        core.close()
        shutil.rmtree(socket_dir, ignore_errors=True)


def pod_config(name: str) -> pb.PodSandboxConfig:
    return pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, namespace="shop", uid=f"uid-{name}"),
        hostname=f"{name}-host",
        labels={"app": name},
    )


async def test_pods_made_through_the_cri_are_listed_live(
    config: Config, runtime: api_pb2_grpc.RuntimeServiceStub
) -> None:
    made = await runtime.RunPodSandbox(
        pb.RunPodSandboxRequest(config=pod_config("web"))
    )
    app = make_app(config, start_panel="pods")

    async with app.run_test(size=(140, 30)) as pilot:
        panel = app.query_one(PodsPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the pod")
        row = panel.table.current()
        assert row is not None
        short_id, name, namespace, state, ip, containers, _ = row.cells
        assert (short_id, name, namespace) == (made.pod_sandbox_id[:13], "web", "shop")
        assert (state, ip, containers) == ("Ready", "", "0")

        # Read-only: nothing to mark rows for, and no key offered for it.
        await pilot.press("space")
        assert not panel.table.marks
        offered = [d for _, keys in app.help_sections() for _, d in keys]
        assert "Mark" not in offered and "Filter" in offered

        await until(pilot, lambda: panel.detail_key == made.pod_sandbox_id, "detail")
        detail = str(panel.query_one(".detail-text").render())
        assert "web-host" in detail and "app=web" in detail

        # Another pod, and a stopped one, appear without a key.
        other = await runtime.RunPodSandbox(
            pb.RunPodSandboxRequest(config=pod_config("db"))
        )
        await until(pilot, lambda: panel.table.row_count == 2, "the second pod")
        await runtime.StopPodSandbox(
            pb.StopPodSandboxRequest(pod_sandbox_id=other.pod_sandbox_id)
        )
        states = lambda: {r.cells[1]: r.cells[3] for r in panel.table.model.values()}  # noqa: E731
        await until(pilot, lambda: states()["db"] == "NotReady", "db stopped")

        await pilot.press("slash", *"db")
        await until(pilot, lambda: panel.table.row_count == 1, "filtered")


async def test_a_pods_containers_are_counted_as_they_come_and_go(
    config: Config,
    runtime: api_pb2_grpc.RuntimeServiceStub,
    busybox_rootfs_tar: Path,
) -> None:
    with Core.open(config) as core, busybox_rootfs_tar.open("rb") as rootfs:
        await import_image(core, rootfs, "box:1")
    sandbox = pod_config("web")
    pod = await runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=sandbox))
    app = make_app(config, start_panel="pods")

    async with app.run_test(size=(140, 30)) as pilot:
        panel = app.query_one(PodsPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the pod")
        count = lambda: panel.table.model[pod.pod_sandbox_id].cells[5]  # noqa: E731
        assert count() == "0"

        config_ = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="app"),
            image=pb.ImageSpec(image="box:1"),
            command=["sleep", "60"],
        )
        request = pb.CreateContainerRequest(
            pod_sandbox_id=pod.pod_sandbox_id, config=config_, sandbox_config=sandbox
        )
        made = await runtime.CreateContainer(request)
        await until(pilot, lambda: count() == "1", "the pod's container")
        await until(
            pilot,
            lambda: "app (" in str(panel.query_one(".detail-text").render()),
            "the container in the detail",
        )

        await runtime.RemoveContainer(
            pb.RemoveContainerRequest(container_id=made.container_id)
        )
        await until(pilot, lambda: count() == "0", "the container gone")


async def test_without_pods_the_panel_says_where_they_come_from(
    config: Config,
) -> None:
    app = make_app(config, start_panel="pods")

    async with app.run_test(size=(80, 24)) as pilot:
        panel = app.query_one(PodsPanel)
        await until(pilot, lambda: panel.has_class("-empty"), "the empty panel")
        said = str(panel.query_one(".empty").render())
        assert "CRI" in said and "servin-tui --headless" in said and "crictl" in said


def test_the_cri_is_loaded_only_when_the_pods_panel_is_shown(config: Config) -> None:
    # A process of its own: this one has loaded the CRI for the other tests.
    code = f"""
import asyncio, sys
from pathlib import Path
from servin_core.config import Config
from servin_tui.app.app import ServinApp
from servin_tui.app.local import LocalBackend

async def main():
    root = Path({str(config.data_dir)!r})
    config = Config(
        data_dir=root,
        run_dir=root / "run",
        default_bridge={config.default_bridge!r},
        default_network_subnet={config.default_network_subnet!r},
    )
    app = ServinApp(LocalBackend.open(config))
    async with app.run_test(size=(80, 24)) as pilot:
        # The panel in front (an empty store's containers) has been read.
        containers = app.query_one("#containers")
        while not containers.has_class("-empty"):
            await pilot.pause(0.05)
        print("before", "servin_cri.pod_store" in sys.modules)
        await pilot.press("3")
        pods = app.query_one("#pods")
        while not pods.has_class("-empty"):
            await pilot.pause(0.05)
        print("after", "servin_cri.pod_store" in sys.modules)

asyncio.run(main())
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.split() == ["before", "False", "after", "True"]


async def test_without_the_cri_modules_the_panel_says_so(
    config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An install without grpcio and protobuf cannot be made here: the
    # module's import is made to fail as it would fail there.
    monkeypatch.setitem(sys.modules, "servin_cri.pod_store", None)
    app = make_app(config, start_panel="pods")

    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.shown, "a notification")
        await pilot.press("1", "3")  # tried again: said once, not again
        await pilot.pause(0.5)
        [(severity, _, message)] = app.shown
        assert severity == "error"
        assert message.startswith("pods: the CRI's modules cannot be loaded here")
        assert app.is_running
