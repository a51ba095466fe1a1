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
from textual import on, work
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import DataTable

from servin_core.containers.model import Container, State
from servin_tui.app.backend import ContainerAction
from servin_tui.app.panel import Panel
from servin_tui.app.rows import Row, container_row
from servin_tui.app.terminal_keys import KeyTaker

if TYPE_CHECKING:
    from servin_tui.app.exec_panel import ExecPanel
    from servin_tui.app.stats import StatsTracker
    from servin_tui.app.terminal import Terminal

__all__ = ["ContainersPanel"]

_DESTRUCTIVE = {ContainerAction.KILL, ContainerAction.REMOVE, ContainerAction.STOP}
# These wait for the process to end (up to the stop timeout): say so first.
_SLOW = {ContainerAction.STOP, ContainerAction.RESTART}


class ContainersPanel(Panel):
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

    stats: StatsTracker | None = None
    """The last minute of each running container shown (once one ran)."""
    stats_timer: Timer

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
        row = container_row(obj, now)
        sampled = self.stats is not None and obj.state is State.RUNNING
        usage = self.stats.get(obj.id) if self.stats is not None and sampled else None
        if usage is None:
            return [Row(row.key, row.owner, (*row.cells, "", ""), row.sort_keys)]
        from servin_tui.app.stats import usage_cells

        cells, keys = usage_cells(usage)
        sort_keys = (*row.sort_keys, *(None,) * (len(row.cells) - len(row.sort_keys)))
        return [Row(row.key, row.owner, (*row.cells, *cells), (*sort_keys, *keys))]

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

    # Stats of the running containers shown

    def on_mount(self) -> None:
        self.stats_timer = self.set_interval(1.0, self._sample_stats, pause=True)

    def rows_changed(self) -> None:
        super().rows_changed()
        running = [i for i, c in self.objects.items() if c.state is State.RUNNING]
        # No container runs: no timer, no work.
        if running:
            self.stats_timer.resume()
        else:
            self.stats_timer.pause()
        if self.stats is not None:
            self.stats.keep_only(running)
            self._show_usage()

    def _sampled(self) -> list[str]:
        """Running containers whose rows are on the screen now."""
        if not self.is_on_screen or not self.screen.is_current:
            return []
        table = self.table
        top = round(table.scroll_offset.y)
        shown = table.visible_keys()[top : top + table.size.height]
        running = State.RUNNING
        return [
            k for k in shown if k in self.objects and self.objects[k].state is running
        ]

    @work(exclusive=True, group="stats")
    async def _sample_stats(self) -> None:
        from servin_tui.app.stats import StatsTracker

        idents = self._sampled()
        if not idents:
            return
        samples = await self.guarded(self.backend.container_samples(idents), "stats")
        if samples is None:
            return
        if self.stats is None:
            self.stats = StatsTracker()
        self.stats.add(self.objects, samples)
        now = self.clock()
        rows = [
            r
            for i in idents
            if i in self.objects
            for r in self.rows_of(self.objects[i], now)
        ]
        self.table.apply(rows, [])
        self._show_usage()

    @on(DataTable.RowHighlighted)
    def _show_usage(self) -> None:
        """The selected container's sparklines in the detail pane."""
        if self.stats is None:
            return  # nothing ever ran: not even the import
        from servin_tui.app.stats_view import StatsView

        row = self.table.current()
        usage = self.stats.get(row.owner) if row is not None else None
        found = self.query(StatsView)
        if found:
            found.first().show(usage)
        elif usage is not None:
            view = StatsView()
            self.query_one(".detail").mount(view, before=0)
            self.call_after_refresh(view.show, usage)

    def action_run(self) -> None:
        from servin_tui.app.run_dialog import RunDialog

        self.app.push_screen(RunDialog(self.backend))
