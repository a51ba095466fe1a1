"""What every list panel shares: a live table, a filter, a detail pane.

A panel loads its rows once, then changes them as the core's events arrive
(:meth:`Panel.on_core_events`). Work on the core runs in Textual workers;
a :class:`~servin_core.errors.ServinError` becomes a notification naming
the object and the reason, and the panel carries on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, ClassVar, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import DataTable, Input, Static

from servin_core.errors import ServinError
from servin_core.events import Event
from servin_tui.app.backend import Backend
from servin_tui.app.rows import Clock, Row
from servin_tui.app.table import LiveTable

if TYPE_CHECKING:
    from servin_tui.app.app import ServinApp

__all__ = ["Panel", "PanelCommand"]

T = TypeVar("T")

PanelCommand = tuple[str, str, str]
"""A palette entry: title, help text, the panel's action name."""


class Panel(Vertical):
    """A list of one kind of object, with its filter and detail pane."""

    BINDINGS = [
        Binding("slash", "filter", "Filter"),
        Binding("i", "toggle_detail", "Detail", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    DEFAULT_CSS = """
    Panel {
        height: 1fr;
    }
    Panel > Input.filter {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
    }
    Panel.-filtering > Input.filter {
        display: block;
    }
    Panel > .empty {
        display: none;
        padding: 1 2;
        color: $text-muted;
    }
    Panel.-empty > .empty {
        display: block;
    }
    Panel.-empty > LiveTable {
        height: auto;
        max-height: 2;
    }
    Panel > .detail {
        height: 40%;
        border-top: solid $primary;
        padding: 0 1;
    }
    Panel.-no-detail > .detail {
        display: none;
    }
    """

    TITLE: ClassVar[str] = ""
    COLUMNS: ClassVar[Sequence[tuple[str, str]]] = ()
    SORT: ClassVar[tuple[str | None, bool]] = (None, False)
    COMMANDS: ClassVar[Sequence[PanelCommand]] = ()
    EMPTY: ClassVar[str] = "Nothing here yet."

    show_detail: reactive[bool] = reactive(True)
    """Whether the detail pane of the selected object is shown."""

    def __init__(self, backend: Backend, clock: Clock, *, id: str) -> None:
        super().__init__(id=id)
        self.backend = backend
        self.clock = clock
        self.detail_key: str | None = None
        """The row whose details the pane shows now."""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter…", classes="filter")
        column, reverse = self.SORT
        yield LiveTable(self.COLUMNS, sort_column=column, sort_reverse=reverse)
        yield Static(self.empty_text(), classes="empty")
        with VerticalScroll(classes="detail"):
            yield Static("", classes="detail-text")

    @property
    def table(self) -> LiveTable:
        return self.query_one(LiveTable)

    @property
    def servin_app(self) -> ServinApp:
        from servin_tui.app.app import ServinApp

        assert isinstance(self.app, ServinApp)
        return self.app

    def on_mount(self) -> None:
        self.reload()

    def empty_text(self) -> str:
        """What the panel says when it has no rows."""
        return self.EMPTY

    # Loading and events

    async def rows(self) -> list[Row]:
        """Every row of the panel, read from the backend."""
        return []

    async def on_core_events(self, events: Sequence[Event]) -> None:
        """Change the rows that ``events`` touched (the default reloads)."""
        del events
        self.reload()

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        rows = await self.guarded(self.rows(), "list")
        if rows is not None:
            self.table.replace_all(rows)
            self.rows_changed()

    def rows_changed(self) -> None:
        self.set_class(not self.table.model, "-empty")
        self.refresh_detail()

    # Detail pane

    async def detail(self, row: Row) -> Text | str:
        """What the detail pane says about ``row``."""
        return " ".join(row.cells)

    def watch_show_detail(self, show: bool) -> None:
        self.set_class(not show, "-no-detail")
        if show:
            self.refresh_detail()

    @on(DataTable.RowHighlighted)
    def _highlighted(self) -> None:
        self.refresh_detail()

    @work(exclusive=True, group="detail")
    async def refresh_detail(self) -> None:
        if not self.show_detail:
            return
        text_widget = self.query_one(".detail-text", Static)
        row = self.table.current()
        if row is None:
            text_widget.update("")
            return
        text = await self.guarded(self.detail(row), "inspect")
        text_widget.update(text if text is not None else "")
        self.detail_key = row.key

    # Filter

    def action_filter(self) -> None:
        self.add_class("-filtering")
        self.query_one(Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one(Input)
        box.value = ""
        self.remove_class("-filtering")
        self.table.focus()

    def action_sort(self) -> None:
        self.table.action_sort_next()

    def action_toggle_detail(self) -> None:
        self.show_detail = not self.show_detail

    @on(Input.Changed, ".filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self.refresh_detail()

    @on(Input.Submitted, ".filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value:
            self.remove_class("-filtering")
        self.table.focus()

    def focus_table(self) -> None:
        self.table.focus()

    # Running core operations

    async def guarded(self, operation: Awaitable[T], what: str) -> T | None:
        """Await ``operation``; a core error becomes a notification and None."""
        try:
            return await operation
        except (ServinError, OSError) as e:
            # OSError: the state directory itself failed (a full disk).
            self.app.notify(str(e), title=f"{what} failed", severity="error")
        return None

    def confirm(self, question: str, then: Callable[[], object]) -> None:
        """Ask ``question``; run ``then`` if the answer is yes."""
        from servin_tui.app.dialogs import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(question), answered)
