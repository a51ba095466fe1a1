"""Exec from the Containers panel, against a real running container: a
terminal below the list runs a shell or a command on a real pty, takes the
keys a terminal takes (ctrl+C included), follows the panel's size, and
hands the keyboard back to the list on ctrl+]."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from app_harness import RecordingApp, make_app, root_config, until
from rich.style import Style
from textual import events
from textual.app import App, ComposeResult
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList

from servin_core.config import Config
from servin_core.containers import lifecycle
from servin_core.containers.model import Container, ContainerConfig
from servin_core.core import Core
from servin_core.errors import NotFound
from servin_core.images.importer import import_image
from servin_tui.app.containers import ContainersPanel
from servin_tui.app.dialogs import PromptDialog
from servin_tui.app.exec_panel import ExecPanel
from servin_tui.app.local import LocalBackend
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


def sleeping(seconds: str) -> bool:
    """Whether a live ``sleep SECONDS`` process exists on the host."""
    wanted = f"sleep\0{seconds}\0".encode()
    for entry in os.listdir("/proc"):
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            stat = Path(f"/proc/{entry}/stat").read_bytes()
        except OSError:
            continue
        if cmdline == wanted and stat[stat.rindex(b")") + 2 :][:1] != b"Z":
            return True
    return False


def footer_keys(app: RecordingApp) -> set[str]:
    active = app.screen.active_bindings.values()
    return {b.binding.description for b in active if b.binding.show and b.enabled}


def matches(app: RecordingApp) -> int:
    found = app.screen.query(OptionList)
    return found.first().option_count if found else 0


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
        # The footer offers only what the terminal does not pass on.
        assert footer_keys(app) == {"Leave terminal"}

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
        assert {"Exec", "Stop", "Help", "Quit"} <= footer_keys(app)
        assert panel.state == "running (e returns)"
        await pilot.press("e")
        await until(pilot, lambda: app.focused is terminal, "back in the terminal")
        assert panel.state == "running (ctrl+] leaves)"

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


async def test_arrow_keys_edit_the_line_as_in_any_terminal(
    config: Config, running: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)
        await pilot.press("e")
        await until(pilot, lambda: app.query(ExecPanel), "the terminal")
        terminal = app.query_one(ExecPanel).terminal
        await until(pilot, lambda: prompts(terminal) == 1, "the shell's prompt")

        # Left twice, then a letter: typed inside the word, not after it.
        await pilot.press(*"echo abc", "left", "left", "X", "enter")
        await until(pilot, lambda: "aXbc" in terminal.lines(), "the edited line")

        # Up brings the last command back.
        await pilot.press("up", "enter")
        await until(pilot, lambda: terminal.lines().count("aXbc") == 2, "again")

        # Pasted text is typed, its new lines as Enter.
        app.post_message(events.Paste("echo pasted-$((1+1))\n"))
        await until(pilot, lambda: "pasted-2" in terminal.lines(), "the paste run")


async def test_quitting_with_a_shell_open_ends_the_shell(
    config: Config, running: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)
        await pilot.press("E", "backspace", "backspace")
        await type_line(pilot, "sleep 4242")
        panel = app.query_one(ExecPanel)
        await until(pilot, lambda: panel.state.startswith("running"), "started")
        await until(pilot, lambda: sleeping("4242"), "the process")

        await pilot.press("ctrl+right_square_bracket", "q")

    deadline = time.monotonic() + 60
    while sleeping("4242"):
        assert time.monotonic() < deadline, "the command outlived the app"
        time.sleep(0.05)


PICTURE = (
    r"printf '\033[1mbold\033[0m \033[4munderline\033[0m \033[7mreverse\033[0m\n';"
    r" for c in 31 32 33 34 35 36; do printf '\033[%sm colour %s \033[0m' $c $c; done;"
    r" printf '\n\033[30;47m black on white \033[0m';"
    r" printf ' \033[97;41m bright on red \033[0m\n';"
    r" printf '\033[38;5;208m256-colour orange\033[0m \033[38;2;0;128;255mtruecolour\n'"
)


class TerminalOnly(App[None]):
    """Just an exec panel, at a fixed title, for a picture."""

    CSS = "ExecPanel { height: 1fr; }"

    def __init__(self, config: Config, container_id: str) -> None:
        super().__init__()
        self.backend = LocalBackend.open(config)
        self.container_id = container_id

    def compose(self) -> ComposeResult:
        yield ExecPanel(self.backend, self.container_id, "box", ["sh", "-c", PICTURE])

    async def on_unmount(self) -> None:
        await self.backend.close()


def test_terminal_panel_picture(
    snap_compare: Callable[..., bool], config: Config, running: Container
) -> None:
    async def ended(pilot: Pilot[None]) -> None:
        panel = pilot.app.query_one(ExecPanel)
        await until(pilot, lambda: panel.ended, "the command's end")

    app = TerminalOnly(config, running.id)
    assert snap_compare(app, terminal_size=(80, 24), run_before=ended)


async def test_lines_scrolled_off_the_top_can_be_read_again(
    config: Config, running: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)
        await pilot.press("E", "backspace", "backspace")
        await type_line(pilot, "seq 1 300")
        panel = app.query_one(ExecPanel)
        await until(pilot, lambda: panel.ended, "the command's end")
        terminal = panel.terminal

        def shown() -> list[str]:
            return [
                terminal.render_line(y).text.strip()
                for y in range(terminal.size.height)
            ]

        assert "300" in shown() and "1" not in shown()
        top = int(shown()[0])
        await pilot.press("shift+pageup")
        earlier = [int(line) for line in shown() if line]
        assert earlier[0] < top and earlier == list(range(earlier[0], earlier[-1] + 1))
        await pilot.press("shift+pagedown")
        assert int(shown()[0]) == top


async def test_help_lists_exec_and_the_palette_opens_a_shell(
    config: Config, running: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)
        [(heading, keys), *_] = app.help_sections()
        assert heading == "This panel"
        assert {("e", "Exec"), ("E", "Exec command")} <= set(keys)

        await pilot.press("colon")
        await until(pilot, lambda: isinstance(app.screen, CommandPalette), "palette")
        await pilot.press(*"Containers: exec")
        await until(pilot, lambda: matches(app) > 1, "the palette's matches")
        await pilot.press("enter")

        await until(pilot, lambda: app.query(ExecPanel), "the terminal")
        panel = app.query_one(ExecPanel)
        assert panel.cmd == ["sh"]
        await until(pilot, lambda: prompts(panel.terminal) == 1, "the shell's prompt")
        assert app.focused is panel.terminal


KEYS = {
    "f1": "1b 4f 50",
    "ctrl+a": "01",
    "up": "1b 5b 41",
    "shift+tab": "1b 5b 5a",
    "f5": "1b 5b 31 35 7e",
    "ctrl+up": "1b 5b 31 3b 35 41",
    "tab": "09",
    "ctrl+p": "10",
}
"""Keys and the bytes an xterm sends for them."""


async def test_keys_reach_the_program_as_an_xterm_sends_them(
    config: Config, running: Container
) -> None:
    expected = " ".join(KEYS.values()).split()
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)
        await pilot.press("E", "backspace", "backspace")
        # The program reads raw bytes and prints them in hex.
        # Then it asks for application cursor keys (DECCKM), as line
        # editors do, and reads one more key.
        read = (
            f"stty raw -echo; echo ready; head -c {len(expected)} | od -An -tx1;"
            r" printf '\033[?1h'; echo cursor-keys; head -c 3 | od -An -tx1"
        )
        await type_line(pilot, f'sh -c "{read}"')
        panel = app.query_one(ExecPanel)

        def lines() -> list[str]:
            # Raw output has no carriage returns: lines start where the
            # last one ended.
            return [line.strip() for line in panel.terminal.lines()]

        await until(pilot, lambda: "ready" in lines(), "raw mode")

        await pilot.press(*KEYS)
        await until(pilot, lambda: "cursor-keys" in lines(), "application mode")
        await pilot.press("up")
        await until(pilot, lambda: panel.ended, "the command's end")
        shown = lines()
        first = shown[shown.index("ready") + 1 : shown.index("cursor-keys")]
        assert " ".join(first).split() == expected
        after = shown[shown.index("cursor-keys") + 1 :]
        assert " ".join(after).split() == ["1b", "4f", "41"]  # ESC O A
        assert panel.state.startswith("exited with 0")


async def test_a_command_that_does_not_exist_is_reported(
    config: Config, running: Container
) -> None:
    app = make_app(config)

    async with app.run_test(size=(100, 30)) as pilot:
        await listed(pilot, app)
        await pilot.press("E", "backspace", "backspace")
        await type_line(pilot, "no-such-command")
        panel = app.query_one(ExecPanel)
        await until(pilot, lambda: panel.ended, "the failure")

        assert panel.state.startswith("failed: ")
        assert "no-such-command" in panel.state
        [(severity, title, message)] = app.shown
        assert (severity, title) == ("error", "exec failed")
        assert message.startswith("container box: ") and "not found" in message
