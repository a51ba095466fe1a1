"""The Volumes and Networks panels against a real core: they list what
exists and follow changes made elsewhere, their keys create, remove and
prune the real objects, and a refusal (a volume or network in use) is a
notification naming the object and the reason."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_harness import RecordingApp, make_app, root_config, until
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from servin_core.config import Config
from servin_core.containers import lifecycle
from servin_core.containers.model import ContainerConfig, Mount
from servin_core.core import Core
from servin_core.errors import ServinError
from servin_core.images.importer import import_image
from servin_core.network.manage import (
    connect_sync,
    create_network,
    remove_network,
)
from servin_core.volumes.model import Volume
from servin_core.volumes.operations import create_sync, list_volumes
from servin_tui.app.dialogs import ConfirmDialog
from servin_tui.app.form_dialog import FormDialog
from servin_tui.app.help import HelpScreen
from servin_tui.app.networks import NetworksPanel
from servin_tui.app.panel import Panel
from servin_tui.app.volumes import VolumesPanel


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
def core(config: Config) -> Iterator[Core]:
    with Core.open(config) as core:
        yield core
        for container in core.containers.list():
            with contextlib.suppress(ServinError):
                asyncio.run(lifecycle.remove(core, container.id, force=True))
        for network in core.networks.list():
            with contextlib.suppress(ServinError):
                remove_network(core, network.id)


async def box(core: Core, rootfs: Path) -> str:
    with rootfs.open("rb") as source:
        return (await import_image(core, source, "box:1")).id


async def web_using_data(core: Core, rootfs: Path) -> None:
    """A container "web" (created, not started) that mounts volume "data"."""
    await box(core, rootfs)
    data = ContainerConfig(
        image="box:1", cmd=["true"], mounts=[Mount("volume", "/data", "data")]
    )
    await lifecycle.create(core, data, name="web")


def cells(panel: Panel) -> list[tuple[str, ...]]:
    table = panel.table
    return [tuple(c.plain for c in table.get_row(k)[1:]) for k in table.visible_keys()]


def column(panel: Panel, at: int) -> list[str]:
    return [row[at] for row in cells(panel)]


async def answer_yes(pilot: Pilot[None], app: RecordingApp) -> None:
    await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "a question")
    await pilot.press("y")


def failures(app: RecordingApp) -> list[str]:
    return [message for severity, _, message in app.shown if severity == "error"]


# Volumes


async def test_a_panel_is_read_when_first_shown_and_misses_no_event(
    config: Config, core: Core
) -> None:
    create_sync(core, "early")
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(VolumesPanel)
        containers = app.panel("containers")
        await until(pilot, lambda: containers.has_class("-empty"), "containers read")

        # Hidden, the panel reads nothing, events included.
        create_sync(core, "unseen")
        await pilot.pause(1.0)  # two polls of the events table
        assert not panel.loaded and not panel.table.row_count

        # A volume made while the panel reads, after its list was taken:
        # its event comes during the read, and is applied after it.
        fetch = panel.fetch_objects

        async def slow_fetch() -> list[Volume]:
            volumes = list(await fetch())
            create_sync(core, "during")
            await until(pilot, lambda: panel._held, "the event held")
            return volumes

        panel.fetch_objects = slow_fetch  # type: ignore[method-assign]
        await pilot.press("4")
        await until(pilot, lambda: "during" in column(panel, 0), "the held event")
        assert sorted(column(panel, 0)) == ["during", "early", "unseen"]

        # Read once, it follows the events.
        create_sync(core, "later")
        await until(pilot, lambda: "later" in column(panel, 0), "the next volume")


async def test_volumes_panel_lists_volumes_and_their_users(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    create_sync(core, "cache")
    await web_using_data(core, busybox_rootfs_tar)
    app = make_app(config, start_panel="volumes")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(VolumesPanel)
        await until(pilot, lambda: panel.table.row_count == 2, "two volumes")
        assert [row[:3] for row in cells(panel)] == [
            ("cache", "local", "0"),
            ("data", "local", "1"),
        ]

        # Made and used elsewhere: the rows follow the events.
        create_sync(core, "logs")
        await until(pilot, lambda: "logs" in column(panel, 0), "the new volume")
        await lifecycle.remove(core, "web")
        await until(pilot, lambda: rows_of(panel)["data"][2] == "0", "data unused")

        # The detail pane: where the volume lives.
        await until(pilot, lambda: panel.detail_key == "cache", "cache's detail")
        detail = str(panel.query_one(".detail-text").render())
        assert "Mountpoint" in detail
        assert str(config.data_dir / "volumes" / "cache") in detail


async def test_create_and_remove_a_volume_from_the_keyboard(
    config: Config, core: Core
) -> None:
    app = make_app(config, start_panel="volumes")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(VolumesPanel)
        await until(pilot, lambda: app.focused is panel.table, "the table focused")
        assert "No volumes" in str(panel.query_one(".empty").render())

        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "the dialog")
        await pilot.press(*"scratch", "enter")
        await until(pilot, lambda: panel.table.row_count == 1, "the new row")
        assert [v.name for v in list_volumes(core)] == ["scratch"]

        await pilot.press("d")
        await answer_yes(pilot, app)
        await until(pilot, lambda: panel.table.row_count == 0, "the row gone")
        assert list_volumes(core) == []


async def test_removing_a_volume_in_use_says_who_uses_it(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    await web_using_data(core, busybox_rootfs_tar)
    app = make_app(config, start_panel="volumes")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(VolumesPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the volume")
        await pilot.press("d")
        await answer_yes(pilot, app)
        await until(pilot, lambda: failures(app), "a notification")

        [message] = failures(app)
        assert "data" in message and "in use" in message and "web" in message
        assert [v.name for v in list_volumes(core)] == ["data"]
        assert panel.table.row_count == 1
        assert app.is_running


async def test_filter_marks_and_prune_in_the_volumes_panel(
    config: Config, core: Core
) -> None:
    for name in ("app-cache", "app-data", "db-data", "tmp"):
        create_sync(core, name)
    app = make_app(config, start_panel="volumes")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(VolumesPanel)
        await until(pilot, lambda: panel.table.row_count == 4, "four volumes")

        await pilot.press("slash", *"app")
        await until(pilot, lambda: panel.table.row_count == 2, "filtered")
        assert column(panel, 0) == ["app-cache", "app-data"]

        # Both shown marked, both removed with one question.
        await pilot.press("enter", "space", "space", "d")
        await answer_yes(pilot, app)
        await until(pilot, lambda: len(list_volumes(core)) == 2, "two removed")
        assert [v.name for v in list_volumes(core)] == ["db-data", "tmp"]

        await pilot.press("escape")
        await until(pilot, lambda: panel.table.row_count == 2, "the rest shown")
        # x prunes anonymous volumes only; X every unused one.
        await pilot.press("x")
        await answer_yes(pilot, app)
        await until(pilot, lambda: any("Deleted 0" in m for *_, m in app.shown), "x")
        assert len(list_volumes(core)) == 2
        await pilot.press("X")
        await answer_yes(pilot, app)
        await until(pilot, lambda: panel.table.row_count == 0, "all pruned")
        assert list_volumes(core) == []


# Networks


async def test_networks_panel_lists_networks_and_follows_connect(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    await box(core, busybox_rootfs_tar)
    web = await lifecycle.create(
        core, ContainerConfig(image="box:1", cmd=["true"]), name="web"
    )
    backend = create_network(core, "backend", subnet="10.89.71.0/24", internal=True)
    app = make_app(config, start_panel="networks")

    async with app.run_test(size=(140, 30)) as pilot:
        panel = app.query_one(NetworksPanel)
        await until(pilot, lambda: panel.table.row_count == 2, "two networks")
        rows = {row[0]: row for row in cells(panel)}
        assert rows["backend"] == (
            "backend",
            backend.short_id,
            "bridge",
            "10.89.71.0/24",
            "10.89.71.1",
            "yes",
            "0",
        )
        assert rows["servin"][6] == "1"  # web is on the default network

        # A connect made elsewhere changes the count, from its event.
        connect_sync(core, web, "backend")
        await until(pilot, lambda: rows_of(panel)["backend"][6] == "1", "connected")

        # Sorted by name: backend first.
        await pilot.press("home")
        await until(pilot, lambda: panel.detail_key == backend.id, "its detail")
        detail = str(panel.query_one(".detail-text").render())
        assert "10.89.71.0/24" in detail and "web" in detail

        # The default network stays, and says why.
        await pilot.press("down", "d")
        await answer_yes(pilot, app)
        await until(pilot, lambda: failures(app), "a notification")
        [message] = failures(app)
        assert "servin" in message and "default network" in message
        assert core.networks.find("servin") is not None


async def test_create_remove_and_prune_networks_from_the_keyboard(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    await box(core, busybox_rootfs_tar)
    create_network(core, "spare", subnet="10.89.72.0/24")
    create_network(core, "busy", subnet="10.89.73.0/24")
    busy = ContainerConfig(image="box:1", cmd=["true"], network="busy")
    await lifecycle.create(core, busy, name="web")
    app = make_app(config, start_panel="networks")

    async with app.run_test(size=(140, 30)) as pilot:
        panel = app.query_one(NetworksPanel)
        await until(pilot, lambda: panel.table.row_count == 2, "two networks")

        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "the dialog")
        dialog = app.screen
        assert isinstance(dialog, FormDialog)
        await pilot.press(*"front")
        dialog.field("subnet").value = "10.89.74.0/24"
        await pilot.press("enter")
        await until(pilot, lambda: "front" in rows_of(panel), "the new network")
        assert core.networks.find("front") is not None

        # busy (a container on it) is refused, named; front goes.
        await pilot.press("home")
        assert panel.table.current() is not None
        assert panel.table.current().cells[0] == "busy"  # type: ignore[union-attr]
        await pilot.press("space", "space", "d")
        await answer_yes(pilot, app)
        await until(pilot, lambda: "front" not in rows_of(panel), "front removed")
        await until(pilot, lambda: failures(app), "busy refused")
        [message] = failures(app)
        assert "busy" in message and "web" in message
        assert core.networks.find("front") is None
        assert core.networks.find("busy") is not None

        # Prune: spare goes, busy stays.
        await pilot.press("x")
        await answer_yes(pilot, app)
        await until(pilot, lambda: "spare" not in rows_of(panel), "spare pruned")
        assert list(rows_of(panel)) == ["busy"]
        assert [n.name for n in core.networks.list()] == ["busy"]


async def test_filter_narrows_the_networks(config: Config, core: Core) -> None:
    for at, name in enumerate(("front-a", "front-b", "back"), start=75):
        create_network(core, name, subnet=f"10.89.{at}.0/24")
    app = make_app(config, start_panel="networks")

    async with app.run_test(size=(140, 30)) as pilot:
        panel = app.query_one(NetworksPanel)
        await until(pilot, lambda: panel.table.row_count == 3, "three networks")
        await pilot.press("slash", *"10.89.76")
        await until(pilot, lambda: panel.table.row_count == 1, "filtered")
        assert column(panel, 0) == ["front-b"]


def rows_of(panel: Panel) -> dict[str, tuple[str, ...]]:
    return {row[0]: row for row in cells(panel)}


async def test_help_and_palette_reach_the_new_actions(
    config: Config, core: Core
) -> None:
    create_sync(core, "data")
    app = make_app(config, start_panel="volumes")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(VolumesPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the volume")
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        assert isinstance(app.screen, HelpScreen)
        [(_, here), *_] = app.screen.sections
        assert {("c", "Create"), ("d", "Remove"), ("x", "Prune")} <= set(here)
        await pilot.press("escape")

        # From another panel, the palette goes to Networks and asks to prune.
        await pilot.press("1", "colon", *"Networks: prune")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "asked")
        tabs = app.query_one(TabbedContent)
        assert tabs.active == "tab-networks"
        await pilot.press("n")
