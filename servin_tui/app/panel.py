"""What every list panel shares: a live table, a filter, a detail pane.

A panel reads its objects once, when it is first shown (a panel nobody
looks at costs nothing at start-up), then reads again only those the core's
events name (:meth:`Panel.on_core_events`) and redraws their rows. Events
that arrive while a panel reads are held and applied after the read, since
the read may have missed them; those it did not miss change nothing. Work on
the core runs in Textual workers; a :class:`~servin_core.errors.ServinError`
becomes a notification naming the object and the reason, and the panel
carries on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, TypeVar

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

__all__ = ["Panel", "PanelCommand"]

T = TypeVar("T")

_AGE_SECONDS = 30.0

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
    EVENT_TYPE: ClassVar[str] = ""
    MARKS: ClassVar[bool] = True
    """Whether rows can be marked: False in a list that has no actions."""

    show_detail: reactive[bool] = reactive(True)
    """Whether the detail pane of the selected object is shown."""

    def __init__(self, backend: Backend, clock: Clock, *, id: str) -> None:
        super().__init__(id=id)
        self.backend = backend
        self.clock = clock
        self.detail_key: str | None = None
        """The row whose details the pane shows now."""
        self.objects: dict[str, Any] = {}
        """The objects shown, by full ID, as last read."""
        self.loaded = False
        """Whether the panel has read its objects (it follows events once so)."""
        self._was_shown = False
        self._following = False
        self._loading = False
        self._held: list[Sequence[Event]] = []

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter…", classes="filter")
        column, reverse = self.SORT
        yield LiveTable(
            self.COLUMNS, sort_column=column, sort_reverse=reverse, markable=self.MARKS
        )
        yield Static(self.empty_text(), classes="empty")
        with VerticalScroll(classes="detail"):
            yield Static("", classes="detail-text")

    @property
    def table(self) -> LiveTable:
        return self.query_one(LiveTable)

    def on_mount(self) -> None:
        # Ages ("2 minutes ago") move on without any event: redraw them
        # from the objects already read, now and then.
        self.set_interval(_AGE_SECONDS, self.refresh_ages)

    def empty_text(self) -> str:
        """What the panel says when it has no rows."""
        return self.EMPTY

    # What a panel of objects reads (subclasses fill these in)

    async def fetch_all(self) -> Sequence[Any]:
        """Every object of the panel, from the backend."""
        return []

    async def fetch_one(self, owner: str) -> Any:
        """The object with full ID ``owner``, or None once it is gone."""
        return None

    def rows_of(self, obj: Any, now: float) -> list[Row]:
        """The rows that show ``obj`` (an image has one per name)."""
        return []

    def key_of(self, obj: Any) -> str:
        """The ID that events name ``obj`` by (a volume's is its name)."""
        return str(obj.id)

    def wants_load(self) -> bool:
        """Whether the panel reads its objects now: once it was shown."""
        return self._was_shown

    def shown(self) -> None:
        """The panel came to the front: read it the first time."""
        if not self._was_shown:
            self._was_shown = True
            if self._following:
                self.reload()

    def start_following(self) -> None:
        """The app noted where the core's events stand (at start, or after
        losing them): read again if the panel was shown, else when it is."""
        self._following = True
        if self.wants_load():
            self.reload()

    def touched(self, events: Sequence[Event]) -> set[str]:
        """IDs of this panel's objects that ``events`` changed."""
        return {e.actor_id for e in events if e.type == self.EVENT_TYPE}

    # Loading and events

    @work(exclusive=True, group="reload")
    async def reload(self) -> None:
        """Read every object again (when first shown, and after losing the
        events), then apply the events that came meanwhile."""
        if not self.wants_load():
            return
        # A reload that replaces this one (exclusive) takes over the held
        # events: they are applied by whichever read ends last.
        self._loading = True
        done = await self.load()
        self._loading = False
        self.loaded |= done
        held, self._held = self._held, []
        if self.loaded and self.is_attached:
            for events in held:
                await self.apply_events(events)

    async def load(self) -> bool:
        """Read every object and show them; False if the read failed."""
        objects = await self.guarded(self.fetch_all(), "list")
        if objects is None:
            return False
        self.objects = {self.key_of(obj): obj for obj in objects}
        now = self.clock()
        self.table.replace_all(r for obj in objects for r in self.rows_of(obj, now))
        self.rows_changed()
        return True

    async def on_core_events(self, events: Sequence[Event]) -> None:
        """Apply ``events``: now if the panel was read, after the read if it
        is being read, never if it is still unread (the read covers them)."""
        if self._loading:
            self._held.append(events)
        elif self.loaded:
            await self.apply_events(events)

    async def apply_events(self, events: Sequence[Event]) -> None:
        """Read again only the objects ``events`` name, and redraw their rows."""
        changed = self.touched(events)
        for owner in changed:
            try:
                obj = await self.fetch_one(owner)
            except (ServinError, OSError) as e:
                self.app.notify(str(e), title="refresh failed", severity="error")
                continue
            if obj is None:
                self.objects.pop(owner, None)
                self.table.replace_owner(owner, [])
            else:
                self.objects[owner] = obj
                self.table.replace_owner(owner, self.rows_of(obj, self.clock()))
        if changed:
            self.rows_changed()

    def refresh_ages(self) -> None:
        now = self.clock()
        rows = [r for obj in self.objects.values() for r in self.rows_of(obj, now)]
        self.table.apply(rows, [])

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
        """Await ``operation``; a core error becomes a notification and None.

        None too when the panel left the app while the core worked, or is
        leaving it (the app quit: its children go first): there is no table
        left to show the answer in.
        """
        try:
            result = await operation
        except (ServinError, OSError) as e:
            # OSError: the state directory itself failed (a full disk).
            if self.is_attached:
                self.app.notify(str(e), title=f"{what} failed", severity="error")
            return None
        return result if self._in_use() else None

    def _in_use(self) -> bool:
        return self.is_attached and bool(self.query(LiveTable))

    def confirm(self, question: str, then: Callable[[], object]) -> None:
        """Ask ``question``; run ``then`` if the answer is yes."""
        from servin_tui.app.dialogs import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(question), answered)
