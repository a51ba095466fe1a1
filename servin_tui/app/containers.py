"""The Containers panel: ``docker ps -a``, live, with lifecycle keys.

The list comes from the container store and changes one container at a time
as container events arrive. The actions are those the core offers: each key
asks the backend, which knows whether the lifecycle operations exist yet,
so the panel grows with the core and never offers what would fail.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import work
from textual.binding import Binding

from servin_core.containers.model import Container
from servin_tui.app.backend import ContainerAction
from servin_tui.app.panel import Panel
from servin_tui.app.rows import Row, container_row

__all__ = ["ContainersPanel"]

_DESTRUCTIVE = {ContainerAction.KILL, ContainerAction.REMOVE, ContainerAction.STOP}
# These wait for the process to end (up to the stop timeout): say so first.
_SLOW = {ContainerAction.STOP, ContainerAction.RESTART}


class ContainersPanel(Panel):
    """Every container, running or not."""

    BINDINGS = [
        Binding("s", "act('start')", "Start"),
        Binding("S", "act('stop')", "Stop"),
        Binding("r", "act('restart')", "Restart"),
        Binding("k", "act('kill')", "Kill"),
        Binding("z", "act('pause')", "Pause"),
        Binding("Z", "act('unpause')", "Unpause"),
        Binding("d", "act('remove')", "Remove"),
        Binding("l", "logs", "Logs"),
    ]

    TITLE = "Containers"
    COLUMNS = (
        ("id", "CONTAINER ID"),
        ("image", "IMAGE"),
        ("command", "COMMAND"),
        ("created", "CREATED"),
        ("status", "STATUS"),
        ("name", "NAMES"),
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
        ("Containers: logs", "Show the selected container's output", "logs"),
        ("Containers: filter", "Show only containers matching a text", "filter"),
    )

    def empty_text(self) -> str:
        if self.backend.container_actions():
            # TODO: a run dialog and exec; until then containers are made
            # with the CLI, and this panel starts, stops and removes them.
            return (
                "No containers. Create one with `servin-tui run -d IMAGE COMMAND`: "
                "this version of the TUI starts, stops, pauses, removes and "
                "shows the logs of containers, but cannot run new ones or exec "
                "into them yet."
            )
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
        return [container_row(obj, now)]

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

        row = self.table.current()
        if row is not None:
            self.app.push_screen(LogScreen(self.backend, row.cells[5]))
