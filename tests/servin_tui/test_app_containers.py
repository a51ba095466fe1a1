"""Containers from the keyboard, against real containers (conmon and runc):
start, logs, stop and remove change the real state, and the list follows."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from app_harness import make_app, root_config, until
from textual.widgets import RichLog

from servin_core.config import Config
from servin_core.containers import lifecycle
from servin_core.containers.model import Container, ContainerConfig, State
from servin_core.core import Core
from servin_core.errors import NotFound
from servin_core.images.importer import import_image
from servin_tui.app.containers import ContainersPanel
from servin_tui.app.logs import LogScreen

SCRIPT = "echo hello; echo oops >&2; trap 'exit 0' TERM; while true; do sleep 0.1; done"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
async def talker(config: Config, busybox_rootfs_tar: Path) -> AsyncIterator[Container]:
    """A created container that prints a line on each stream, then waits
    for SIGTERM."""
    with Core.open(config) as core:
        with busybox_rootfs_tar.open("rb") as source:
            await import_image(core, source, "box:1")
        container = await lifecycle.create(
            core,
            ContainerConfig(image="box:1", cmd=["sh", "-c", SCRIPT]),
            name="talker",
        )
        yield container
        with contextlib.suppress(NotFound):
            await lifecycle.remove(core, container.id, force=True)


def state(config: Config, container: Container) -> State | None:
    with Core.open(config) as core:
        try:
            return core.containers.get(container.id).state
        except NotFound:
            return None


async def test_start_logs_stop_remove_from_the_keyboard(
    config: Config, talker: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(120, 30)) as pilot:
        panel = app.query_one(ContainersPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the container")

        def status() -> str:
            row = panel.table.current()
            return row.cells[4] if row is not None else ""

        assert status() == "Created"

        await pilot.press("s")
        await until(pilot, lambda: status().startswith("Up"), "shown running")
        assert state(config, talker) is State.RUNNING

        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LogScreen), "the logs")
        logs = app.screen
        assert isinstance(logs, LogScreen)
        await until(pilot, lambda: "oops" in logs.text(), "both lines")
        # Two pipes: their lines may arrive in either order.
        assert sorted(logs.text().splitlines()) == ["hello", "oops"]
        drawn = [strip.text.rstrip() for strip in logs.query_one(RichLog).lines]
        assert sorted(drawn) == ["hello", "oops"]
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not logs, "back to the list")

        await pilot.press("S", "y")
        await until(pilot, lambda: status().startswith("Exited (0)"), "shown exited")
        assert state(config, talker) is State.EXITED

        await pilot.press("d", "y")
        await until(pilot, lambda: panel.table.row_count == 0, "the row gone")
        assert state(config, talker) is None
        assert not [shown for shown in app.shown if shown[0] == "error"]


async def test_a_refused_action_names_the_container(
    config: Config, talker: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(120, 30)) as pilot:
        panel = app.query_one(ContainersPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the container")

        # Pausing a container that is not running is refused by the core.
        await pilot.press("z")
        await until(pilot, lambda: app.shown, "a notification")

        [(severity, title, message)] = app.shown
        assert severity == "error"
        assert "talker" in title
        assert "created" in message
        assert state(config, talker) is State.CREATED


async def test_a_bulk_stop_stops_every_marked_container(
    config: Config, talker: Container
) -> None:
    with Core.open(config) as core:
        others = [
            await lifecycle.create(
                core,
                ContainerConfig(image="box:1", cmd=["sh", "-c", SCRIPT]),
                name=name,
            )
            for name in ("second", "bystander")
        ]
        for container in (talker, *others):
            await lifecycle.start(core, container.id)
    second, bystander = others
    app = make_app(config)

    try:
        async with app.run_test(size=(120, 30)) as pilot:
            panel = app.query_one(ContainersPanel)
            await until(pilot, lambda: panel.table.row_count == 3, "the containers")

            def status(name: str) -> str:
                [row] = [r for r in panel.table.model.values() if r.cells[5] == name]
                return row.cells[4]

            # Mark two of the three, wherever the sort put them.
            for _ in range(3):
                row = panel.table.current()
                assert row is not None
                if row.cells[5] in ("talker", "second"):
                    await pilot.press("space")
                else:
                    await pilot.press("down")
            await pilot.press("S", "y")
            await until(
                pilot,
                lambda: all(
                    status(name).startswith("Exited") for name in ("talker", "second")
                ),
                "both marked shown exited",
            )
            assert state(config, talker) is State.EXITED
            assert state(config, second) is State.EXITED
            assert state(config, bystander) is State.RUNNING
            assert status("bystander").startswith("Up")
    finally:
        with Core.open(config) as core:
            for container in others:
                with contextlib.suppress(NotFound):
                    await lifecycle.remove(core, container.id, force=True)
