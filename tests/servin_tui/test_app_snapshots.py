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
    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded("images", "3"))


def test_high_contrast_theme(snap_compare: Callable[..., bool], config: Config) -> None:
    app = fixed_app(config, theme="high-contrast", start_panel="images")
    assert snap_compare(app, terminal_size=(80, 24), run_before=loaded("images"))
