"""Screenshots of the application's main screens at 80x24 and 160x50.

The store is fixed (images built byte for byte by image_factory, one
container row with a fixed creation time) and so is the app's clock, so
IDs and ages are the same on every run. Update the pictures after a
deliberate change with ``pytest --snapshot-update`` and look at them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from app_harness import FIXED_NOW, make_app, root_config, until
from image_factory import build_image, store_image
from textual.pilot import Pilot

from servin_core.config import Config
from servin_core.containers.model import Container, ContainerConfig, State
from servin_core.core import Core
from servin_tui.app.app import ServinApp
from servin_tui.app.help import HelpScreen
from servin_tui.app.panel import Panel

SIZES = [(80, 24), (160, 50)]
CONTAINER_ID = "c0ffee" + "0" * 58


async def _fill(core: Core) -> None:
    busybox = await store_image(core, build_image([{"bin/sh": b"#!"}]), "busybox:1.36")
    await store_image(
        core,
        build_image([{"a": b"1" * 5000}, {"b": b"2" * 700}]),
        "quay.io/acme/web:2.0",
    )
    await store_image(core, build_image([{"etc/os": b"x"}]), "localhost:5000/tools:dev")
    container = Container(
        id=CONTAINER_ID,
        name="quiet_turing",
        image_id=busybox.id,
        image_name="busybox:1.36",
        created=FIXED_NOW - 3 * 3600,
        config=ContainerConfig(image="busybox:1.36", cmd=["sleep", "600"]),
        lowers=tuple(layer.chain_id for layer in reversed(busybox.layers)),
        runtime="runc",
        state=State.CREATED,
    )
    with core.db.write() as conn:
        core.containers.add(conn, container)
    _fill_objects(core)


def _fill_objects(core: Core) -> None:
    """Volumes, networks and a pod with fixed names, IDs and times."""
    from servin_core.network.model import Network
    from servin_core.volumes.model import Volume
    from servin_core.volumes.operations import store_of
    from servin_cri.pb import api_pb2 as pb
    from servin_cri.pod_store import PodState, PodStore

    with core.db.write() as conn:
        for at, name in enumerate(("cache", "pgdata", "a1b2c3" * 10 + "d4e5")):
            created = FIXED_NOW - (at + 1) * 86400
            store_of(core).add(conn, Volume(name, created, anonymous=at == 2))
        for at, (name, internal) in enumerate((("backend", True), ("web", False))):
            network_id = f"{at + 1:x}" * 64
            core.networks.add(
                conn,
                Network(
                    network_id, name, "bridge", f"sv-{network_id[:12]}",
                    f"10.89.{at + 1}.0/24", f"10.89.{at + 1}.1", internal, True,
                    {"team": "shop"}, {}, FIXED_NOW - 7200,
                ),
            )  # fmt: skip
    pods = PodStore(core.db)
    meta = pb.PodSandboxMetadata(name="web-0", namespace="shop", uid="uid-1")
    config = pb.PodSandboxConfig(metadata=meta, hostname="web-0", labels={"app": "web"})
    pod = pods.add("bead" * 16, config, "")
    pods.set_state(pod.id, PodState.READY, ip="10.88.0.7")
    with core.db.write() as conn:
        conn.execute("UPDATE pods SET created = ?", (FIXED_NOW - 600,))


@pytest.fixture
def config(tmp_path: Path) -> Config:
    config = root_config(tmp_path / "root")
    with Core.open(config) as core:
        asyncio.run(_fill(core))
    return config


def fixed_app(config: Config, **options: Any) -> ServinApp:
    """The app on ``config`` with a fixed clock and a title without the
    temporary directory's name (the screenshot's frame shows it)."""
    app = make_app(config, clock=lambda: FIXED_NOW, **options)
    app.title = "Servin (local)"
    return app


def loaded(
    panel: str, *keys: str, then: Callable[[Pilot[None]], bool] | None = None
) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Wait for ``panel``'s rows and detail, then press ``keys``."""

    async def run_before(pilot: Pilot[None]) -> None:
        target = pilot.app.query_one(f"#{panel}", Panel)
        await until(pilot, lambda: target.table.row_count, f"{panel} rows")
        await until(pilot, lambda: target.detail_key, f"{panel} detail")
        await pilot.press(*keys)
        if then is not None:
            await until(pilot, lambda: then(pilot), "the screen after the keys")

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_images_panel(
    snap_compare: Callable[..., bool], config: Config, size: tuple[int, int]
) -> None:
    app = fixed_app(config, theme="dark", start_panel="images")
    assert snap_compare(app, terminal_size=size, run_before=loaded("images"))


@pytest.mark.parametrize("size", SIZES)
def test_containers_panel(
    snap_compare: Callable[..., bool], config: Config, size: tuple[int, int]
) -> None:
    app = fixed_app(config, theme="dark")
    assert snap_compare(app, terminal_size=size, run_before=loaded("containers"))


def test_help_screen(snap_compare: Callable[..., bool], config: Config) -> None:
    app = fixed_app(config, theme="dark", start_panel="images")
    shown = loaded(
        "images", "question_mark", then=lambda p: isinstance(p.app.screen, HelpScreen)
    )
    assert snap_compare(app, terminal_size=(80, 24), run_before=shown)


def test_unavailable_panel(snap_compare: Callable[..., bool], config: Config) -> None:
    app = fixed_app(config, theme="dark", start_panel="images")
    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded("images", "6"))


@pytest.mark.parametrize("size", SIZES)
def test_volumes_panel(
    snap_compare: Callable[..., bool], config: Config, size: tuple[int, int]
) -> None:
    # The detail pane is hidden (i): it shows the temporary root's path.
    app = fixed_app(config, theme="dark", start_panel="volumes")
    hidden = loaded("volumes", "i", then=lambda p: not _panel(p, "volumes").show_detail)
    assert snap_compare(app, terminal_size=size, run_before=hidden)


@pytest.mark.parametrize("size", SIZES)
def test_networks_panel(
    snap_compare: Callable[..., bool], config: Config, size: tuple[int, int]
) -> None:
    app = fixed_app(config, theme="dark", start_panel="networks")
    assert snap_compare(app, terminal_size=size, run_before=loaded("networks"))


@pytest.mark.parametrize("size", SIZES)
def test_pods_panel(
    snap_compare: Callable[..., bool], config: Config, size: tuple[int, int]
) -> None:
    app = fixed_app(config, theme="dark", start_panel="pods")
    assert snap_compare(app, terminal_size=size, run_before=loaded("pods"))


def _panel(pilot: Pilot[None], ident: str) -> Panel:
    return pilot.app.query_one(f"#{ident}", Panel)


def test_high_contrast_theme(snap_compare: Callable[..., bool], config: Config) -> None:
    app = fixed_app(config, theme="high-contrast", start_panel="images")
    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded("images"))
