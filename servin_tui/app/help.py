"""The help screen: every key that works where the user pressed ``?``.

It is built from the bindings themselves (the panel's, the table's and the
application's), so it cannot drift from what the keys do.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

__all__ = ["HelpScreen", "HelpSection"]

HelpSection = tuple[str, Sequence[tuple[str, str]]]
"""A heading, and its keys with what they do."""


class HelpScreen(ModalScreen[None]):
    """Keys of the current panel and of the whole application."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "Close")]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, sections: Sequence[HelpSection]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text("Keys (Esc closes)", style="bold"))
            for heading, keys in self.sections:
                table = Table.grid(padding=(0, 2))
                table.add_column(style="bold", min_width=10)
                table.add_column()
                for key, description in keys:
                    table.add_row(key, description)
                yield Static(Text(f"\n{heading}", style="underline"))
                yield Static(table)
