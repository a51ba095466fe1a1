"""The Containers panel: ``docker ps -a``, live, with lifecycle keys.

The list comes from the container store and changes one container at a time
as container events arrive. The actions are those the core offers: each key
asks the backend, which knows whether the lifecycle operations exist yet,
so the panel grows with the core and never offers what would fail.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.binding import Binding

from servin_core.containers.model import Container, State
from servin_tui.app.backend import ContainerAction
from servin_tui.app.rows import Row, container_row
from servin_tui.app.stats_panel import StatsPanel
from servin_tui.app.terminal_keys import KeyTaker

if TYPE_CHECKING:
    from servin_tui.app.exec_panel import ExecPanel
    from servin_tui.app.terminal import Terminal

__all__ = ["ContainersPanel"]

_DESTRUCTIVE = {ContainerAction.KILL, ContainerAction.REMOVE, ContainerAction.STOP}
# These wait for the process to end (up to the stop timeout): say so first.
_SLOW = {ContainerAction.STOP, ContainerAction.RESTART}


class ContainersPanel(StatsPanel):
    """Every container, running or not."""

    BINDINGS = [
        Binding("n", "run", "Run"),
        Binding("s", "act('start')", "Start"),
        Binding("S", "act('stop')", "Stop"),
        Binding("r", "act('restart')", "Restart"),
        Binding("k", "act('kill')", "Kill"),
        Binding("z", "act('pause')", "Pause"),
        Binding("Z", "act('unpause')", "Unpause"),
        Binding("d", "act('remove')", "Remove"),
        Binding("l", "logs", "Logs"),
        Binding("e", "exec", "Exec"),
        Binding("E", "exec_command", "Exec command", show=False),
    ]

    DEFAULT_CSS = """
    ContainersPanel.-exec > .detail {
        display: none;
    }
    """

    TITLE = "Containers"
    COLUMNS = (
        ("id", "CONTAINER ID"),
        ("image", "IMAGE"),
        ("command", "COMMAND"),
        ("created", "CREATED"),
        ("status", "STATUS"),
        ("name", "NAMES"),
        ("cpu", "CPU %"),
        ("memory", "MEM"),
    )
    SORT = ("created", True)
    COMMANDS = (
        *(
            (
                f"Containers: {a.value}",
                f"{a.value.capitalize()} the selected or marked containers",
                f"act('{a.value}')",
            )
            for a in ContainerAction
        ),
        (
            "Containers: logs",
            "Show the output of the selected or marked containers",
            "logs",
        ),
        ("Containers: filter", "Show only containers matching a text", "filter"),
        ("Containers: run", "Run a new container from an image", "run"),
        ("Containers: exec", "Open a shell in the selected container", "exec"),
        (
            "Containers: exec a command",
            "Run a command in the selected container, in a terminal",
            "exec_command",
        ),
    )

    def empty_text(self) -> str:
        if self.backend.container_actions():
            return "No containers. Press n to run one."
        return (
            "No containers. Running containers from the TUI (run, start, stop, "
            "logs, exec) is coming: this version of the core lists containers "
            "but cannot run them yet."
        )

    EVENT_TYPE = "container"

    async def fetch_all(self) -> Sequence[Container]:
        return await self.backend.list_containers()

    async def fetch_one(self, owner: str) -> Container | None:
        return await self.backend.get_container(owner)

    def rows_of(self, obj: Container, now: float) -> list[Row]:
        return [self.with_usage(container_row(obj, now), obj)]

    async def detail(self, row: Row) -> Text | str:
        container = self.objects.get(row.owner)
        if container is None:
            return ""
        config = container.config
        text = Text()
        for label, value in (
            ("ID", container.id),
            ("Name", container.name),
            ("Image", f"{container.image_name} ({container.image_id[7:19]})"),
            ("State", container.state.value),
            ("Exit code", container.exit_code),
            ("Error", container.error),
            ("Command", " ".join([*(config.entrypoint or []), *(config.cmd or [])])),
            ("Restart", config.restart.name),
            ("Env", "\n            ".join(config.env)),
            ("Mounts", ", ".join(f"{m.source}:{m.target}" for m in config.mounts)),
            ("Labels", ", ".join(f"{k}={v}" for k, v in config.labels.items())),
        ):
            if value not in (None, ""):
                text.append(f"{label:<12}", style="bold")
                text.append(f"{value}\n")
        return text

    # Actions

    def action_act(self, name: str) -> None:
        action = ContainerAction(name)
        if action not in self.backend.container_actions():
            self.app.notify(
                f"container {action.value}: not available in this version of the core",
                title="Containers",
                severity="warning",
            )
            return
        rows = self.table.chosen()
        if not rows:
            return
        names = [row.cells[5] for row in rows]
        if action in _DESTRUCTIVE:
            listed = ", ".join(names) if len(names) <= 3 else f"{len(names)} containers"
            question = f"{action.value.capitalize()} {listed}?"
            self.confirm(question, lambda: self._act(action, names))
        else:
            self._act(action, names)

    @work(group="actions")
    async def _act(self, action: ContainerAction, names: list[str]) -> None:
        async def run(name: str) -> bool:
            await self.backend.container_action(action, name)
            return True

        for name in names:
            if action in _SLOW:
                self.app.notify(f"{action.value}: {name}…", title="Containers")
            if await self.guarded(run(name), f"{action.value} {name}"):
                self.app.notify(f"{action.value}: {name}", title="Containers")
        self.table.clear_marks()

    def action_logs(self) -> None:
        from servin_tui.app.logs import LogScreen

        # The marked containers' logs interleave, each line tagged.
        rows = self.table.chosen()
        if rows:
            self.app.push_screen(LogScreen(self.backend, [r.cells[5] for r in rows]))

    # Exec: a terminal below the list

    def action_exec(self) -> None:
        self._exec(["sh"], again=True)

    def action_exec_command(self) -> None:
        from servin_tui.app.dialogs import PromptDialog

        container = self._running_selected()
        if container is None:
            return

        def answered(text: str | None) -> None:
            if not text:
                return
            try:
                cmd = shlex.split(text)
            except ValueError as e:
                self.app.notify(f"command {text}: {e}", severity="error")
                return
            if cmd:
                self._exec(cmd, again=False)

        question = f"Command to run in {container.name}"
        self.app.push_screen(PromptDialog(question, value="sh"), answered)

    def _running_selected(self) -> Container | None:
        """The container under the cursor if it runs; else None, said."""
        row = self.table.current()
        if row is None or row.owner not in self.objects:
            return None
        container: Container = self.objects[row.owner]
        if container.state is not State.RUNNING:
            self.app.notify(
                f"container {container.name}: is {container.state.value}, not running",
                title="exec",
                severity="warning",
            )
            return None
        return container

    @work(group="exec")
    async def _exec(self, cmd: list[str], *, again: bool) -> None:
        """Open ``cmd`` in a terminal; with ``again``, go back to the
        terminal already open on this container if its command runs."""
        from servin_tui.app.exec_panel import ExecPanel

        container = self._running_selected()
        if container is None:
            return
        current = self._exec_panel()
        if current is not None:
            if again and current.container_id == container.id and not current.ended:
                current.terminal.focus()
                return
            await current.remove()
        panel = ExecPanel(self.backend, container.id, container.name, cmd)
        self.add_class("-exec")
        await self.mount(panel, after=self.table)
        panel.terminal.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The list's keys go to a focused terminal: hidden from the footer.
        return not isinstance(self.app.focused, KeyTaker)

    def _exec_panel(self) -> ExecPanel | None:
        from servin_tui.app.exec_panel import ExecPanel

        found = self.query(ExecPanel)
        return found.first() if found else None

    async def on_terminal_left(self, message: Terminal.Left) -> None:
        # Named for Textual to find without importing the emulator here.
        panel = self._exec_panel()
        if panel is not None and panel.ended:
            await panel.remove()
            self.remove_class("-exec")
        self.table.focus()

    def action_run(self) -> None:
        from servin_tui.app.run_dialog import RunDialog

        self.app.push_screen(RunDialog(self.backend))
