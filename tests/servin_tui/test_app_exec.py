"""Exec from the Containers panel, against a real running container: a
terminal below the list runs a shell or a command on a real pty, takes the
keys a terminal takes (ctrl+C included), follows the panel's size, and
hands the keyboard back to the list on ctrl+]."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from app_harness import RecordingApp, make_app, root_config, until
from rich.style import Style
from textual.pilot import Pilot

from servin_core.config import Config
from servin_core.containers import lifecycle
from servin_core.containers.model import Container, ContainerConfig
from servin_core.core import Core
from servin_core.errors import NotFound
from servin_core.images.importer import import_image
from servin_tui.app.containers import ContainersPanel
from servin_tui.app.dialogs import PromptDialog
from servin_tui.app.exec_panel import ExecPanel
from servin_tui.app.table import LiveTable
from servin_tui.app.terminal import Terminal

PROMPT = "/ #"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
async def running(config: Config, busybox_rootfs_tar: Path) -> AsyncIterator[Container]:
    """A started busybox container that waits for SIGTERM."""
    with Core.open(config) as core:
        with busybox_rootfs_tar.open("rb") as source:
            await import_image(core, source, "box:1")
        container = await lifecycle.create(
            core,
            ContainerConfig(
                image="box:1", cmd=["sh", "-c", "trap 'exit 0' TERM; sleep 600 & wait"]
            ),
            name="box",
        )
        await lifecycle.start(core, container.id)
        yield container
        with contextlib.suppress(NotFound):
            await lifecycle.remove(core, container.id, force=True)


async def type_line(pilot: Pilot[None], text: str) -> None:
    await pilot.press(*text, "enter")


async def listed(pilot: Pilot[None], app: RecordingApp) -> ContainersPanel:
    panel = app.query_one(ContainersPanel)
    await until(pilot, lambda: panel.table.row_count == 1, "the container")
    return panel


def prompts(terminal: Terminal) -> int:
    return sum(line.startswith(PROMPT) for line in terminal.lines())


async def test_a_command_shows_its_output_and_exit_status(
    config: Config, running: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)

        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, PromptDialog), "the prompt")
        await pilot.press("backspace", "backspace")
        await type_line(pilot, "echo hello-from-exec")

        panel = app.query_one(ExecPanel)
        await until(pilot, lambda: panel.ended, "the command's end")
        assert "hello-from-exec" in panel.terminal.lines()
        assert panel.state == "exited with 0 (ctrl+] closes)"

        # Leaving an ended command closes its panel.
        await pilot.press("ctrl+right_square_bracket")
        await until(pilot, lambda: not app.query(ExecPanel), "the panel closed")
        assert isinstance(app.focused, LiveTable)
        assert not [shown for shown in app.shown if shown[0] == "error"]


async def test_a_shell_takes_keys_and_follows_the_panels_size(
    config: Config, running: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)

        await pilot.press("e")
        await until(pilot, lambda: app.query(ExecPanel), "the terminal")
        panel = app.query_one(ExecPanel)
        terminal = panel.terminal
        assert app.focused is terminal
        await until(pilot, lambda: prompts(terminal) == 1, "the shell's prompt")

        await type_line(pilot, "echo $((6*7))")
        await until(pilot, lambda: "42" in terminal.lines(), "the shell's answer")

        # ctrl+C reaches the program, not the app (which would quit on it).
        await type_line(pilot, "sleep 600")
        await pilot.press("ctrl+c")
        await type_line(pilot, "echo after-interrupt")
        await until(pilot, lambda: "after-interrupt" in terminal.lines(), "ctrl+C")

        # A larger window makes a larger pty.
        await pilot.resize_terminal(120, 40)
        await until(pilot, lambda: terminal.size.width == 120, "the new layout")
        await type_line(pilot, "clear; stty size")
        size = f"{terminal.size.height} {terminal.size.width}"
        await until(pilot, lambda: size in terminal.lines(), f"stty saying {size}")

        # Leaving a running shell keeps it; e on the same container returns.
        await pilot.press("ctrl+right_square_bracket")
        assert isinstance(app.focused, LiveTable)
        assert app.query(ExecPanel)
        await pilot.press("e")
        await until(pilot, lambda: app.focused is terminal, "back in the terminal")

        await type_line(pilot, "exit 3")
        await until(pilot, lambda: panel.ended, "the shell's end")
        assert panel.state == "exited with 3 (ctrl+] closes)"
        assert not [shown for shown in app.shown if shown[0] == "error"]


async def test_colours_and_attributes_are_drawn(
    config: Config, running: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)
        await pilot.press("E", "backspace", "backspace")
        await type_line(pilot, r"printf '\033[1;31mred\033[0m \033[4;42mgreen\033[0m'")
        panel = app.query_one(ExecPanel)
        await until(pilot, lambda: panel.ended, "the command's end")

        line = next(
            y for y, text in enumerate(panel.terminal.lines()) if "red green" in text
        )
        styles = {
            segment.text.strip(): segment.style
            for segment in panel.terminal.render_line(line)
            if segment.text.strip()
        }
        red, green = styles["red"], styles["green"]
        assert isinstance(red, Style) and isinstance(green, Style)
        assert red.color is not None and red.color.name == "red" and red.bold
        assert green.bgcolor is not None and green.bgcolor.name == "green"
        assert green.underline


async def test_exec_in_a_stopped_container_says_it_does_not_run(
    config: Config, running: Container
) -> None:
    with Core.open(config) as core:
        await lifecycle.stop(core, running.id)
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)
        await pilot.press("e")
        await until(pilot, lambda: app.shown, "a notification")

        [(severity, title, message)] = app.shown
        assert (severity, title) == ("warning", "exec")
        assert message == "container box: is exited, not running"
        assert not app.query(ExecPanel)
