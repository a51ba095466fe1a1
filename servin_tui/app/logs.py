"""The output of one or more containers, followed as it is written.

Every line received stays in a :class:`~servin_tui.app.logs_book.LogBook`,
so switching timestamps, wrapping, the search or the filter redraws from
memory instead of reading the logs again. Following can pause: new lines
are then kept and counted but not drawn, so what is on screen holds still.
Several containers' lines interleave by time, each tagged with its
container's name in a colour of its own; stderr is drawn in red.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, RichLog

from servin_core.errors import ServinError
from servin_tui.app.backend import Backend
from servin_tui.app.logs_book import Entry, LogBook, Look, draw, search_pattern

__all__ = ["LogScreen"]

_TAIL = 1000
"""Lines shown per container from before the screen opened."""


class LogScreen(Screen[None]):
    """The logs of the containers ``names``; Esc goes back to the list."""

    BINDINGS = [
        Binding("escape,q", "back", "Back"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("slash", "search", "Search"),
        Binding("n", "next_match", "Next match", show=False),
        Binding("N", "previous_match", "Previous match", show=False),
        Binding("f", "toggle_filter", "Filter"),
        Binding("t", "toggle_timestamps", "Timestamps"),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("end,G", "end", "End"),
        Binding("s", "save", "Save"),
    ]

    DEFAULT_CSS = """
    LogScreen > Label {
        width: 1fr;
        background: $panel;
        padding: 0 1;
    }
    LogScreen > RichLog {
        height: 1fr;
    }
    LogScreen > Input {
        display: none;
        height: 1;
        border: none;
        padding: 0 1;
    }
    LogScreen.-searching > Input {
        display: block;
    }
    """

    timestamps: reactive[bool] = reactive(False)
    """Whether each line starts with the time conmon read it."""
    wrap: reactive[bool] = reactive(False)
    """Whether long lines wrap instead of running off the edge."""
    paused: reactive[bool] = reactive(False)
    """Whether new lines are held back instead of drawn."""
    filtering: reactive[bool] = reactive(False)
    """Whether only lines matching the search are shown."""
    search: reactive[str] = reactive("")
    """The text searched for (any case); empty for none."""

    def __init__(self, backend: Backend, names: Sequence[str]) -> None:
        super().__init__()
        self.backend = backend
        # One name alone is one container, not a sequence of letters.
        self.names = [names] if isinstance(names, str) else list(names)
        self.book = LogBook(self.names)
        self.ended = 0
        """How many of the containers' logs ended (the container stopped)."""
        self.shown: list[tuple[Entry, int]] = []
        """The lines drawn, top to bottom, each with its first screen line."""
        self.held = 0
        """Lines received while paused, not drawn yet."""
        self._drawn_upto = 0
        """Entries of the book before this index are drawn or filtered out."""
        self._cutoff = float("inf")
        """While paused, the last line received before the pause."""
        self._reordered = False
        """Whether lines received while paused went before drawn ones."""
        self._redraw_due = False
        self._placed = True
        """Whether every line in ``shown`` has its screen line."""
        self._found = 0
        """How many lines drawn match the search."""
        # Kept, not queried: the followers may write while the screen is
        # being taken down, after its children are gone.
        self._title = Label("", id="title")
        self._output = RichLog(highlight=False, markup=False, wrap=False)

    def compose(self) -> ComposeResult:
        yield self._title
        yield self._output
        yield Input(placeholder="search…", id="search")
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self._show_title()
        for source, name in enumerate(self.names):
            self.run_worker(self._follow(source, name), group="logs")
        self._output.focus()

    @property
    def output(self) -> RichLog:
        return self._output

    # Receiving

    async def _follow(self, source: int, name: str) -> None:
        try:
            async for line in self.backend.container_logs(
                name, follow=True, tail=_TAIL
            ):
                self._received(source, self.book.add(source, line))
        except (ServinError, OSError) as e:
            # OSError: the log file itself failed (a full or broken disk).
            self.app.notify(str(e), title=f"logs of {name} failed", severity="error")
        self.ended += 1
        self._show_title()

    def _received(self, source: int, at: int | None) -> None:
        if at is None:
            return
        # An earlier line of another container, or the oldest lines
        # forgotten: what is drawn is no longer a prefix of the book.
        reordered = at < self._drawn_upto or self.book.trim()
        if self.paused:
            self.held += 1
            self._reordered |= reordered
            self._show_title()
        elif reordered or self._redraw_due:
            self._schedule_redraw()
        else:
            self._draw_new()
            if self.search:
                self._show_title()  # the count of matching lines

    def _draw_new(self) -> None:
        """Draw the entries after the last drawn one (while paused, only
        those received before the pause)."""
        look = self._look()
        for entry in self.book.entries[self._drawn_upto :]:
            if entry.seq > self._cutoff:
                continue
            if not self.filtering or self.book.matches(entry, look.pattern):
                self._write(entry, look)
        self._drawn_upto = len(self.book.entries)

    def _write(self, entry: Entry, look: Look) -> None:
        log = self.output
        y = len(log.lines)
        self.shown.append((entry, y))
        if look.pattern is not None and self.book.matches(entry, look.pattern):
            self._found += 1
        log.write(draw(self.book, entry, look), scroll_end=not self.paused)
        # Before the log knows its width it keeps writes for later: their
        # screen lines are not known yet.
        self._placed &= len(log.lines) > y

    # Drawing

    def _look(self) -> Look:
        return Look(
            timestamps=self.timestamps,
            tagged=len(self.names) > 1,
            pattern=search_pattern(self.search),
        )

    def _schedule_redraw(self) -> None:
        if not self._redraw_due:
            self._redraw_due = True
            self.call_after_refresh(self.redraw)

    def redraw(self) -> None:
        """Draw every shown line again, from the book."""
        self._redraw_due = False
        log = self.output
        log.wrap = self.wrap
        log.clear()
        self.shown = []
        self._drawn_upto = 0
        self._placed = True
        self._found = 0
        # While paused the lines held are skipped: resuming draws again.
        self._reordered |= self.paused
        self._draw_new()
        if not self.paused:
            log.scroll_end(animate=False)
        self._show_title()

    def _show_title(self) -> None:
        state = "paused" if self.paused else "following"
        if self.paused and self.held:
            state += f", {self.held} new lines held"
        if self.ended == len(self.names):
            state = "stopped" if len(self.names) == 1 else "all stopped"
        parts = [f"Logs of {', '.join(self.names)} ({state})"]
        if self.search:
            parts.append(f"search {self.search!r}: {self._found} lines")
            if self.filtering:
                parts.append("only those shown")
        self._title.update(" · ".join(parts))

    def watch_timestamps(self) -> None:
        self._schedule_redraw()

    def watch_wrap(self) -> None:
        self._schedule_redraw()

    def watch_filtering(self) -> None:
        self._schedule_redraw()

    def watch_search(self) -> None:
        self._schedule_redraw()

    # What tests and saving read

    def text(self) -> str:
        """Everything received, as text, one container after another."""
        return "".join(f"{entry.text}\n" for entry in self.book.entries)

    def shown_text(self) -> str:
        """The lines drawn, as they read on screen (tags, times) without
        colours: what a save writes."""
        look = self._look()
        return "".join(f"{draw(self.book, e, look).plain}\n" for e, _ in self.shown)

    def matches(self) -> list[int]:
        """Screen lines where the lines drawn that match the search start."""
        pattern = search_pattern(self.search)
        if pattern is None:
            return []
        return [y for entry, y in self.shown if self.book.matches(entry, pattern)]

    # Actions

    def action_back(self) -> None:
        if self.has_class("-searching") and self.query_one(Input).has_focus:
            self.remove_class("-searching")
            self.output.focus()
            return
        self.app.pop_screen()

    def action_toggle_pause(self) -> None:
        if not self.paused:
            self.paused = True
            self._cutoff = self.book.last_seq
            self._show_title()
            return
        self.paused = False
        self._cutoff = float("inf")
        self.held = 0
        if self._reordered or self._redraw_due:
            self._reordered = False
            self.redraw()
        else:
            self._draw_new()
            self.output.scroll_end(animate=False)
        self._show_title()

    def action_search(self) -> None:
        self.add_class("-searching")
        self.query_one(Input).focus()

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.search = event.value

    @on(Input.Submitted, "#search")
    def _search_done(self, event: Input.Submitted) -> None:
        if not event.value:
            self.remove_class("-searching")
        self.output.focus()
        self.action_next_match()

    def action_next_match(self) -> None:
        self._jump(forward=True)

    def action_previous_match(self) -> None:
        self._jump(forward=False)

    def _jump(self, *, forward: bool) -> None:
        """Scroll to the next (or previous) matching line; jumping pauses,
        so that new lines do not carry the view away from it."""
        if not self._placed:
            self.redraw()
        found = self.matches()
        if not found:
            return
        if not self.paused:
            self.action_toggle_pause()
        here = round(self.output.scroll_y)
        if forward:
            later = [y for y in found if y > here]
            target = later[0] if later else found[0]
        else:
            earlier = [y for y in found if y < here]
            target = earlier[-1] if earlier else found[-1]
        self.output.scroll_to(y=target, animate=False)

    def action_toggle_filter(self) -> None:
        if not self.search:
            self.app.notify("Search for something first (/)", title="filter")
            return
        self.filtering = not self.filtering

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap

    def action_end(self) -> None:
        """Jump to the newest line and follow again."""
        if self.paused:
            self.action_toggle_pause()
        self.output.scroll_end(animate=False)

    def action_save(self) -> None:
        from servin_tui.app.dialogs import PromptDialog

        def answered(path: str | None) -> None:
            if path:
                self.save(Path(path).expanduser())

        suggested = f"{self.names[0]}.log" if len(self.names) == 1 else "logs.txt"
        self.app.push_screen(
            PromptDialog("Save the lines shown to the file", value=suggested),
            answered,
        )

    @work(group="save")
    async def save(self, path: Path) -> None:
        import asyncio

        text = self.shown_text()
        try:
            await asyncio.to_thread(path.write_text, text)
        except OSError as e:
            reason = e.strerror or str(e)
            self.app.notify(
                f"file {path}: {reason}", title="save failed", severity="error"
            )
            return
        self.app.notify(f"Saved {len(self.shown)} lines to {path}", title="logs")
