"""The run dialog against a real core: a filled form runs a real container
(the image pulled first when missing), and a bad value is written next to
its field with nothing created."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_harness import RecordingApp, make_app, root_config, until
from registry_fixtures import RegistryServer, unique_repo
from textual.pilot import Pilot
from textual.widgets import Label

from servin_core.config import Config
from servin_core.containers import lifecycle
from servin_core.containers.model import State
from servin_core.core import Core
from servin_core.errors import NotFound
from servin_core.images.importer import import_image
from servin_core.images.push import push
from servin_tui.app.containers import ContainersPanel
from servin_tui.app.images import ImagesPanel
from servin_tui.app.run_dialog import RunDialog

LOOP = "trap 'exit 0' TERM; echo ready; while true; do sleep 0.1; done"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
def core(config: Config) -> Iterator[Core]:
    """A core on the app's root, to check the real state; removes every
    container at the end."""
    with Core.open(config) as core:
        yield core
        for container in core.containers.list():
            with contextlib.suppress(NotFound):
                _remove(core, container.id)


def _remove(core: Core, container_id: str) -> None:
    import asyncio

    asyncio.run(lifecycle.remove(core, container_id, force=True))


async def open_dialog(pilot: Pilot[None], app: RecordingApp) -> RunDialog:
    await until(pilot, lambda: app.query(ContainersPanel), "the panel")
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, RunDialog), "the dialog")
    dialog = app.screen
    assert isinstance(dialog, RunDialog)
    return dialog


async def fill(pilot: Pilot[None], dialog: RunDialog, **values: str) -> None:
    """Type each value into its field, as a user would."""
    for key, text in values.items():
        dialog.field(key).focus()
        await pilot.press(*text)


async def test_the_run_dialog_runs_a_container(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    with busybox_rootfs_tar.open("rb") as source:
        await import_image(core, source, "box:1")
    app = make_app(config)

    async with app.run_test(size=(100, 34)) as pilot:
        dialog = await open_dialog(pilot, app)
        await fill(
            pilot,
            dialog,
            image="box:1",
            name="web",
            command=f'sh -c "{LOOP}"',
            env="GREETING=hi 'WHO=the world'",
            restart="on-failure:2",
            memory="64m",
            cpus="0.5",
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is not dialog, "the dialog closed")
        panel = app.query_one(ContainersPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the new row")

    [container] = core.containers.list()
    assert container.name == "web"
    assert container.state is State.RUNNING
    assert container.config.cmd == ["sh", "-c", LOOP]
    assert {"GREETING=hi", "WHO=the world"} <= set(container.config.env)
    assert container.config.resources.memory == 64 * 1024 * 1024
    assert container.config.resources.nano_cpus == 500_000_000
    assert container.config.restart.name == "on-failure"
    assert container.config.restart.maximum_retry == 2
    assert not [shown for shown in app.shown if shown[0] == "error"]


async def test_a_bad_memory_value_is_shown_next_to_its_field(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    with busybox_rootfs_tar.open("rb") as source:
        await import_image(core, source, "box:1")
    app = make_app(config)

    async with app.run_test(size=(100, 34)) as pilot:
        dialog = await open_dialog(pilot, app)
        await fill(pilot, dialog, image="box:1", command="top", memory="lots", cpus="1")
        await pilot.press("enter")
        await until(pilot, lambda: dialog.errors, "the form checked")

        error = dialog.query_one("#error-memory", Label)
        assert error.display
        assert "--memory lots" in str(error.render())
        assert dialog.errors.keys() == {"memory"}
        assert not dialog.query_one("#error-cpus", Label).display
        assert dialog.field("memory").has_focus
        assert app.screen is dialog

        # Corrected, the same form runs.
        dialog.field("memory").value = "32m"
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is not dialog, "the dialog closed")

    [container] = core.containers.list()
    assert container.config.resources.memory == 32 * 1024 * 1024


async def test_a_missing_image_is_pulled_first_with_progress(
    tmp_path: Path,
    config: Config,
    core: Core,
    registry: RegistryServer,
    busybox_rootfs_tar: Path,
) -> None:
    name = f"{registry.host}/{unique_repo()}:v1"
    with Core.open(root_config(tmp_path / "pusher")) as pusher:
        with busybox_rootfs_tar.open("rb") as source:
            await import_image(pusher, source, name)
        await push(pusher, name)
    app = make_app(config)

    async with app.run_test(size=(100, 34)) as pilot:
        dialog = await open_dialog(pilot, app)
        await fill(pilot, dialog, image=name, command=f'sh -c "{LOOP}"')
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is not dialog, "the dialog closed")

    [image] = core.images.list()
    assert image.tags == (name,)
    # A bar per layer, each finished.
    assert {dialog.pulled[layer.digest] for layer in image.layers} == {"complete"}
    [container] = core.containers.list()
    assert container.image_id == image.id
    assert container.state is State.RUNNING


async def test_run_from_the_images_panel_names_the_selected_image(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    with busybox_rootfs_tar.open("rb") as source:
        await import_image(core, source, "box:1")
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 34)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the image")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, RunDialog), "the dialog")
        dialog = app.screen
        assert isinstance(dialog, RunDialog)
        assert dialog.field("image").value == "box:1"

        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not dialog, "the dialog closed")
    assert core.containers.list() == []
