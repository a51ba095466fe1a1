"""The create-volume and create-network dialogs against a real core: a
filled form makes the object, a bad value is written under its field and
nothing is made."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_harness import RecordingApp, make_app, root_config, until
from textual.pilot import Pilot
from textual.widgets import Label

from servin_core.config import Config
from servin_core.core import Core
from servin_core.errors import ServinError
from servin_core.volumes.operations import list_volumes
from servin_tui.app.form_dialog import FormDialog


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
def core(config: Config) -> Iterator[Core]:
    with Core.open(config) as core:
        yield core
        from servin_core.network.manage import remove_network

        for network in core.networks.list():
            with contextlib.suppress(ServinError):
                remove_network(core, network.id)


async def open_dialog(pilot: Pilot[None], app: RecordingApp, tab: str) -> FormDialog:
    await pilot.press(tab)
    await pilot.press("c")
    await until(pilot, lambda: isinstance(app.screen, FormDialog), "the dialog")
    dialog = app.screen
    assert isinstance(dialog, FormDialog)
    return dialog


async def fill(pilot: Pilot[None], dialog: FormDialog, **values: str) -> None:
    for key, text in values.items():
        dialog.field(key).focus()
        await pilot.press(*text)


def error_under(dialog: FormDialog, key: str) -> str:
    label = dialog.query_one(f"#error-{key}", Label)
    return str(label.render()) if label.display else ""


async def test_create_a_volume_from_its_tab(config: Config, core: Core) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await open_dialog(pilot, app, "4")
        await fill(pilot, dialog, name="data", labels="team=web 'note=two words'")
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is not dialog, "the dialog closed")

    [volume] = list_volumes(core)
    assert volume.name == "data"
    assert volume.labels == {"team": "web", "note": "two words"}


async def test_a_bad_volume_option_is_shown_under_its_field(
    config: Config, core: Core
) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await open_dialog(pilot, app, "4")
        await fill(pilot, dialog, name="data", options="type")
        await pilot.press("enter")
        await until(pilot, lambda: dialog.errors, "the form checked")

        assert "--opt type: expected KEY=VALUE" in error_under(dialog, "options")
        assert error_under(dialog, "name") == ""
        assert app.screen is dialog
    assert list_volumes(core) == []


async def test_create_a_network_from_the_palette(config: Config, core: Core) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("colon", *"Networks: create")
        await pilot.pause()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, FormDialog), "the dialog")
        dialog = app.screen
        assert isinstance(dialog, FormDialog)

        await fill(pilot, dialog, name="backend", subnet="10.89.77.0/33")
        await pilot.press("enter")
        await until(pilot, lambda: dialog.errors, "the form checked")
        assert "10.89.77.0/33" in error_under(dialog, "subnet")
        assert core.networks.list() == []

        dialog.field("subnet").value = "10.89.77.0/24"
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is not dialog, "the dialog closed")

    [network] = [n for n in core.networks.list() if n.name == "backend"]
    assert network.subnet == "10.89.77.0/24"
    assert not network.internal
