"""The application beyond the Images list: containers and events panels,
panel keys, the command palette, marks for bulk actions, sorting, themes."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_harness import make_app, root_config, until
from textual.command import CommandPalette
from textual.widgets import TabbedContent

from servin_core.config import Config
from servin_core.containers.model import Container, ContainerConfig, State
from servin_core.core import Core
from servin_core.errors import InvalidArgument
from servin_core.images.importer import import_image
from servin_tui.app.containers import ContainersPanel
from servin_tui.app.events_panel import EventsPanel
from servin_tui.app.images import ImagesPanel
from servin_tui.app.networks import NetworksPanel
from servin_tui.app.panel import Panel
from servin_tui.app.pods import PodsPanel
from servin_tui.app.transfer import TransferDialog
from servin_tui.app.volumes import VolumesPanel


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
def core(config: Config) -> Iterator[Core]:
    with Core.open(config) as core:
        yield core


async def imported(core: Core, rootfs: Path, name: str) -> str:
    with rootfs.open("rb") as source:
        return (await import_image(core, source, name)).id


def cells(panel: Panel) -> list[tuple[str, ...]]:
    table = panel.table
    return [tuple(c.plain for c in table.get_row(k)[1:]) for k in table.visible_keys()]


def add_container(core: Core, image_id: str, name: str) -> Container:
    """A container row as ``create`` leaves it (no process)."""
    image = core.images.get(image_id)
    container = Container(
        id=name.encode().hex().ljust(64, "0"),
        name=name,
        image_id=image.id,
        image_name="box:1",
        created=1_700_000_000.0,
        config=ContainerConfig(image="box:1", cmd=["sleep", "60"]),
        lowers=tuple(layer.chain_id for layer in reversed(image.layers)),
        runtime="runc",
        state=State.CREATED,
    )
    with core.db.write() as conn:
        core.containers.add(conn, container)
    return container


async def test_containers_panel_lists_containers_with_their_state(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    image_id = await imported(core, busybox_rootfs_tar, "box:1")
    app = make_app(config)

    async with app.run_test(size=(120, 30)) as pilot:
        panel = app.query_one(ContainersPanel)
        await until(pilot, lambda: app.focused is panel.table, "the table focused")
        assert "No containers" in str(panel.query_one(".empty").render())

        container = add_container(core, image_id, "web")
        await until(pilot, lambda: panel.table.row_count == 1, "the new container")

        [(short_id, image, command, _, status, name, cpu, memory)] = cells(panel)
        assert (short_id, image, name) == (container.short_id, "box:1", "web")
        assert (command, status) == ('"sleep 60"', "Created")
        assert (cpu, memory) == ("", "")  # sampled only while it runs


async def test_events_panel_shows_new_events_live(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    app = make_app(config, start_panel="events")

    async with app.run_test(size=(120, 30)) as pilot:
        panel = app.query_one(EventsPanel)
        await until(pilot, lambda: app.focused is panel.table, "the table focused")
        assert panel.table.row_count == 0

        image_id = await imported(core, busybox_rootfs_tar, "fresh:1")
        await until(pilot, lambda: panel.table.row_count, "an event row")

        rows = cells(panel)
        assert ("image", image_id.removeprefix("sha256:")[:12]) in {
            (row[1], row[3]) for row in rows
        }


async def test_number_keys_choose_panels(config: Config) -> None:
    app = make_app(config)

    async with app.run_test(size=(80, 24)) as pilot:
        tabs = app.query_one(TabbedContent)
        expected = ["images", "pods", "volumes", "networks", "vm", "events"]
        for key, panel in zip("234567", expected, strict=True):
            await pilot.press(key)
            await until(pilot, lambda p=panel: tabs.active == f"tab-{p}", panel)
        assert "not available" in str(app.query_one("#vm .why").render())
        await pilot.press("1")
        await until(pilot, lambda: tabs.active == "tab-containers", "containers")


async def test_command_palette_reaches_panels(config: Config) -> None:
    app = make_app(config)

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
        await pilot.press(*"Go to Events")
        await pilot.pause(0.3)
        await pilot.press("enter")
        tabs = app.query_one(TabbedContent)
        await until(pilot, lambda: tabs.active == "tab-events", "events shown")


async def test_command_palette_runs_panel_actions(config: Config) -> None:
    app = make_app(config)

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
        await pilot.press(*"Images: pull")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TransferDialog), "pull")
        tabs = app.query_one(TabbedContent)
        assert tabs.active == "tab-images"


def test_every_palette_action_exists() -> None:
    panels = (ImagesPanel, ContainersPanel, EventsPanel)
    for panel in (*panels, PodsPanel, VolumesPanel, NetworksPanel):
        for title, _, action in panel.COMMANDS:
            name = action.partition("(")[0]
            assert hasattr(panel, f"action_{name}"), title


async def test_marked_images_are_removed_together(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    await imported(core, busybox_rootfs_tar, "one:1")
    await imported(core, busybox_rootfs_tar, "two:1")
    await imported(core, busybox_rootfs_tar, "three:1")
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 3, "three images")
        # Newest first, then by size, then by name: "one" and "three" first.
        await pilot.press("o", "o")
        assert panel.table.sort_column == "repository"
        assert [row[0] for row in cells(panel)] == ["one", "three", "two"]

        # The cursor followed its row when the order changed: go to the top.
        await pilot.press("up", "up", "space", "space", "d", "y")
        await until(pilot, lambda: len(core.images.list()) == 1, "two removed")

        [left] = core.images.list()
        assert left.tags == ("docker.io/library/two:1",)
        await until(pilot, lambda: panel.table.row_count == 1, "one row left")
        assert not panel.table.marks


async def test_sort_keys_order_rows_and_keep_the_cursor(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    for name in ("b:1", "c:1", "a:1"):
        await imported(core, busybox_rootfs_tar, name)
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 3, "three images")
        await pilot.press("o", "o")
        assert panel.table.sort_column == "repository"
        assert [row[0] for row in cells(panel)] == ["a", "b", "c"]
        await pilot.press("down")
        await pilot.press("O")
        assert [row[0] for row in cells(panel)] == ["c", "b", "a"]
        current = panel.table.current()
        assert current is not None and current.cells[0] == "b"


async def test_theme_from_option_cycles_and_is_remembered(config: Config) -> None:
    app = make_app(config, theme="light")

    async with app.run_test(size=(80, 24)) as pilot:
        assert app.theme == "light"
        assert app.has_class("-theme-light")
        await pilot.press("ctrl+t")
        assert app.theme == "dark"
        await pilot.press("ctrl+t")
        assert app.theme == "high-contrast"

    settings = json.loads((config.data_dir / "tui.json").read_text())
    assert settings == {"theme": "high-contrast"}
    again = make_app(config)
    async with again.run_test(size=(80, 24)):
        assert again.theme == "high-contrast"


def test_unknown_theme_is_refused_by_name(config: Config) -> None:
    with pytest.raises(InvalidArgument) as caught:
        make_app(config, theme="sepia")
    assert "sepia" in str(caught.value)
    assert "high-contrast" in str(caught.value)


def test_every_app_module_declares_its_surface() -> None:
    import servin_tui.app

    missing = []
    for info in pkgutil.iter_modules(servin_tui.app.__path__, "servin_tui.app."):
        module = importlib.import_module(info.name)
        names = getattr(module, "__all__", None)
        if names is None:
            missing.append(info.name)
            continue
        missing += [f"{info.name}.{n}" for n in names if not hasattr(module, n)]
    assert missing == []


def test_the_backend_protocol_does_not_load_textual() -> None:
    code = (
        "import sys, servin_tui.app.backend, servin_tui.app.local; "
        "print(any(m == 'textual' or m.startswith('textual.') for m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
