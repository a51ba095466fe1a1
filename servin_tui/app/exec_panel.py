"""A command running in a container, in a terminal below the list.

The panel is a title and a :class:`~servin_tui.app.terminal.Terminal`. It
stays while the command runs, also when the user leaves it for the list
(``e`` on the same container comes back to it); once the command ended,
its title says how, and leaving closes it.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from servin_tui.app.backend import Backend, ExecSession
from servin_tui.app.terminal import Terminal

__all__ = ["ExecPanel"]


class ExecPanel(Vertical):
    """``cmd`` in container ``container_id``, on a pty the panel's size."""

    DEFAULT_CSS = """
    ExecPanel {
        height: 60%;
        border-top: solid $primary;
    }
    ExecPanel > Label {
        width: 1fr;
        height: 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
        background: $panel;
        padding: 0 1;
    }
    """

    def __init__(
        self, backend: Backend, container_id: str, name: str, cmd: Sequence[str]
    ) -> None:
        super().__init__()
        self.backend = backend
        self.container_id = container_id
        self.container_name = name
        self.cmd = list(cmd)
        self.ended = False
        self.state = "starting"
        """What the title says of the command."""

    def compose(self) -> ComposeResult:
        yield Label(self._title(), markup=False)
        yield Terminal(self._open)

    @property
    def terminal(self) -> Terminal:
        return self.query_one(Terminal)

    async def _open(self, columns: int, rows: int) -> ExecSession:
        return await self.backend.open_exec(
            self.container_id, self.cmd, columns=columns, rows=rows
        )

    def _title(self) -> str:
        # The state first: a long command is cut short at the edge.
        command = shlex.join(self.cmd)
        return f"{self.container_name}: {self.state} · {command}"

    def _say(self, state: str) -> None:
        self.state = state
        self.query_one(Label).update(self._title())

    @on(Terminal.Ended)
    def _ended(self, event: Terminal.Ended) -> None:
        self.ended = True
        if event.error:
            state = f"failed: {event.error}"
            self.app.notify(event.error, title="exec failed", severity="error")
        else:
            state = f"exited with {event.code}"
        self._say(f"{state} (ctrl+] closes)")

    @on(Terminal.Started)
    @on(events.DescendantFocus)
    @on(events.DescendantBlur)
    def _say_running(self) -> None:
        """Say how to leave the terminal, or how to come back to it."""
        if self.terminal.session is None or self.ended:
            return
        back = "ctrl+] leaves" if self.terminal.has_focus else "e returns"
        self._say(f"running ({back})")
