"""One whole flow through a real terminal: ``servin-tui --root DIR`` in a
detached tmux session, driven with ``tmux send-keys`` and read with
``tmux capture-pane``: pull, run, logs, exec, stop, remove.

After each step a separate core on the same root checks the real state (the
image is there, the container exists and runs, has stopped, is gone), so
the test sees what a user would both on the screen and underneath it. tmux
runs a server of its own (``-L``), ended in a ``finally``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from app_harness import root_config
from netconfig import config_file
from registry_fixtures import RegistryServer, unique_repo

from servin_core.config import Config
from servin_core.containers.model import Container, State
from servin_core.core import Core
from servin_core.errors import NotFound
from servin_core.images.importer import import_image
from servin_core.images.push import push

COLUMNS, LINES = 120, 40
SCRIPT = "echo hello-e2e; trap 'exit 0' TERM; while true; do sleep 0.1; done"
_DEADLINE = 90.0
"""A bound against hanging, not a measure of speed."""

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


class Terminal:
    """A tmux server of our own with one session running a command."""

    def __init__(self, command: str) -> None:
        self.server = ["tmux", "-L", f"servin-e2e-{uuid.uuid4().hex[:12]}"]
        size = ("-x", str(COLUMNS), "-y", str(LINES))
        subprocess.run(
            [*self.server, "new-session", "-d", "-s", "e2e", *size, command],
            check=True,
        )

    def keys(self, *keys: str) -> None:
        """Keys by tmux's names (``Enter``, ``Escape``, ``C-]``)."""
        subprocess.run([*self.server, "send-keys", "-t", "e2e", *keys], check=True)

    def type(self, text: str) -> None:
        """``text`` typed literally."""
        subprocess.run([*self.server, "send-keys", "-t", "e2e", "-l", text], check=True)

    def next_field(self) -> None:
        """Tab to the next field, and wait for the cursor to get there:
        keys sent before the focus moved would land in the old field."""
        before = self.cursor()
        self.keys("Tab")
        eventually(lambda: self.cursor() != before, "the next field", self)

    def cursor(self) -> str:
        shown = subprocess.run(
            [*self.server, "display", "-p", "-t", "e2e", "#{cursor_x},#{cursor_y}"],
            capture_output=True,
            text=True,
        )
        return shown.stdout.strip()

    def screen(self) -> str:
        shown = subprocess.run(
            [*self.server, "capture-pane", "-p", "-t", "e2e"],
            capture_output=True,
            text=True,
        )
        if shown.returncode != 0:
            raise AssertionError(f"the terminal is gone: {shown.stderr}")
        return shown.stdout

    def wait_for(self, text: str) -> str:
        """The screen, once it shows ``text``."""
        eventually(lambda: text in self.screen(), f"{text!r} on the screen", self)
        return self.screen()

    def ended(self) -> bool:
        alive = subprocess.run([*self.server, "has-session"], capture_output=True)
        return alive.returncode != 0

    def close(self) -> None:
        subprocess.run([*self.server, "kill-server"], capture_output=True)


def eventually(
    condition: Callable[[], object], what: str, terminal: Terminal | None = None
) -> None:
    deadline = time.monotonic() + _DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            screen = terminal.screen() if terminal is not None else ""
            raise AssertionError(f"never happened: {what}\n{screen}")
        time.sleep(0.1)


def containers(config: Config) -> list[Container]:
    """What a separate core on the same root sees now."""
    with Core.open(config) as core:
        return core.containers.list()


def state_of(config: Config, name: str) -> State | None:
    found = [c for c in containers(config) if c.name == name]
    return found[0].state if found else None


def has_image(config: Config, name: str) -> bool:
    with Core.open(config) as core:
        try:
            core.images.resolve(name)
        except NotFound:
            return False
        return True


@pytest.fixture
def image(tmp_path: Path, registry: RegistryServer, busybox_rootfs_tar: Path) -> str:
    """A busybox image in the test registry, by name."""
    import asyncio

    name = f"{registry.host}/{unique_repo()}:e2e"

    async def publish() -> None:
        with Core.open(root_config(tmp_path / "pusher")) as pusher:
            with busybox_rootfs_tar.open("rb") as source:
                await import_image(pusher, source, name)
            await push(pusher, name)

    asyncio.run(publish())
    return name


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    cli = Path(sys.executable).parent / "servin-tui"
    # The session's own default network (tests/netconfig.py), as root_config.
    term = Terminal(f"{cli} --root {tmp_path / 'root'} --config {config_file()}")
    try:
        yield term
    finally:
        term.close()
        _remove_left_over(root_config(tmp_path / "root"))


def _remove_left_over(config: Config) -> None:
    """A failed run leaves its container running: stop it for the next test."""
    import asyncio

    from servin_core.containers.lifecycle import remove

    async def clean() -> None:
        with Core.open(config) as core:
            for container in core.containers.list():
                await remove(core, container.id, force=True)

    asyncio.run(clean())


def test_pull_run_logs_exec_stop_remove_through_a_terminal(
    tmp_path: Path, image: str, terminal: Terminal
) -> None:
    config = root_config(tmp_path / "root")
    terminal.wait_for("No containers. Press n to run one.")

    # Pull, from the Images panel's dialog.
    terminal.keys("2")
    terminal.wait_for("No images")
    terminal.keys("p")
    terminal.wait_for("Pull an image")
    terminal.type(image)
    terminal.keys("Enter")
    terminal.wait_for("Pulled")
    assert has_image(config, image)
    terminal.keys("Enter")

    # Run, from the Containers panel's dialog.
    terminal.keys("1")
    terminal.wait_for("Press n to run one")
    terminal.keys("n")
    terminal.wait_for("Run a container")
    terminal.type(image)
    terminal.next_field()
    terminal.type("e2e")
    terminal.next_field()
    terminal.type(f'sh -c "{SCRIPT}"')
    terminal.keys("Enter")
    eventually(lambda: state_of(config, "e2e") is State.RUNNING, "running", terminal)
    # The detail pane of the selected (only) container.
    terminal.wait_for("State       running")

    # Logs.
    terminal.keys("l")
    terminal.wait_for("Logs of e2e")
    terminal.wait_for("hello-e2e")
    terminal.keys("Escape")
    eventually(lambda: "Logs of e2e" not in terminal.screen(), "logs left", terminal)

    # Exec: a shell in the container; the shell computes what we look for,
    # so the typed line itself cannot match.
    terminal.keys("e")
    terminal.wait_for("ctrl+] leaves")
    terminal.type("echo exec-$((6*7))")
    terminal.keys("Enter")
    terminal.wait_for("exec-42")
    terminal.type("exit")
    terminal.keys("Enter")
    terminal.wait_for("e2e: exited with 0")
    terminal.keys("C-]")
    terminal.wait_for("State       running")
    assert state_of(config, "e2e") is State.RUNNING

    # Stop, confirmed.
    terminal.keys("S")
    terminal.wait_for("Stop e2e?")
    terminal.keys("y")
    eventually(lambda: state_of(config, "e2e") is State.EXITED, "exited", terminal)
    terminal.wait_for("State       exited")
    terminal.wait_for("Exit code   0")

    # Remove, confirmed.
    terminal.keys("d")
    terminal.wait_for("Remove e2e?")
    terminal.keys("y")
    eventually(lambda: state_of(config, "e2e") is None, "removed", terminal)
    terminal.wait_for("No containers")

    terminal.keys("q")
    eventually(terminal.ended, "the app quit")
