"""The Textual application: a tab per kind of object, live from the core.

The app owns the backend (it closes it on exit), follows the core's events
and hands each batch to every panel, which changes only the rows the events
name. Keys: 1-7 choose a panel, ``?`` shows every key, ``:`` or ctrl+p opens
the command palette, ctrl+t cycles the themes in ``themes/``.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Iterable
from functools import partial

from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from servin_core.errors import InvalidArgument, ServinError
from servin_tui.app.backend import Backend
from servin_tui.app.containers import ContainersPanel
from servin_tui.app.events_panel import EventsPanel
from servin_tui.app.help import HelpScreen, HelpSection
from servin_tui.app.images import ImagesPanel
from servin_tui.app.networks import NetworksPanel
from servin_tui.app.panel import Panel
from servin_tui.app.pods import PodsPanel
from servin_tui.app.rows import Clock
from servin_tui.app.table import LiveTable
from servin_tui.app.terminal_keys import KeyTaker
from servin_tui.app.themes import (
    DEFAULT_THEME,
    find_themes,
    remember_theme,
    remembered_theme,
)
from servin_tui.app.unavailable import UnavailablePanel
from servin_tui.app.volumes import VolumesPanel

__all__ = ["PANELS", "ServinApp"]

PANELS = (
    ("containers", "Containers"),
    ("images", "Images"),
    ("pods", "Pods"),
    ("volumes", "Volumes"),
    ("networks", "Networks"),
    ("vm", "VM"),
    ("events", "Events"),
)
"""Panel IDs and titles, in tab order; panel N is key N."""

_LISTS: dict[str, type[Panel]] = {
    "containers": ContainersPanel,
    "images": ImagesPanel,
    "pods": PodsPanel,
    "volumes": VolumesPanel,
    "networks": NetworksPanel,
    "events": EventsPanel,
}
_RETRY_SECONDS = 2.0
_GC_YOUNGEST = 20_000


class ServinApp(App[None]):
    """Servin's manager, on one backend (local or remote)."""

    BINDINGS = [
        *(
            Binding(str(n), f"show_panel('{ident}')", title, show=False)
            for n, (ident, title) in enumerate(PANELS, start=1)
        ),
        Binding("question_mark", "help", "Help"),
        # Binding the palette to ":" stops Textual adding its ctrl+p: both here.
        Binding("colon", "command_palette", "Commands", show=False),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True),
        Binding("ctrl+t", "cycle_theme", "Theme", show=False),
        Binding("q", "quit", "Quit"),
    ]

    CSS = """
    TabbedContent {
        height: 1fr;
    }
    TabPane {
        padding: 0;
    }
    """

    def __init__(
        self,
        backend: Backend,
        *,
        theme: str | None = None,
        clock: Clock = time.time,
        start_panel: str = "containers",
    ) -> None:
        super().__init__()
        # What exists by now (modules, classes, the core) lives as long as
        # the process: frozen, the collector's full passes skip it. And a
        # youngest generation of at least 20,000 objects (Python's is 700;
        # servin-tui's main sets more): filling a table of 1,000 rows makes
        # some 50,000, which set off dozens of passes and a few full ones.
        # Both together took a quarter of the first paint's CPU at 1,000
        # containers (bench/tui/README.md).
        gc.freeze()
        youngest, *older = gc.get_threshold()
        gc.set_threshold(max(youngest, _GC_YOUNGEST), *older)
        self.backend = backend
        self.clock = clock
        self.start_panel = start_panel
        self.theme_files = find_themes()
        for theme_file in self.theme_files.values():
            self.register_theme(theme_file.theme())
            self.stylesheet.add_source(
                theme_file.rules(), read_from=(str(theme_file.path), "")
            )
        self.theme = self._initial_theme(theme)
        self.title = f"Servin ({backend.description})"

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Textual's notify, reading text as plain by default: the core's
        messages name objects such as ``name[:tag]`` that are not markup."""
        super().notify(
            message, title=title, severity=severity, timeout=timeout, markup=markup
        )

    def _initial_theme(self, asked: str | None) -> str:
        if asked is not None:
            if asked not in self.available_themes:
                known = ", ".join(self.theme_files)
                raise InvalidArgument("theme", asked, f"unknown theme (known: {known})")
            return asked
        kept = remembered_theme(self.backend.data_dir)
        return kept if kept in self.available_themes else DEFAULT_THEME

    def compose(self) -> ComposeResult:
        with TabbedContent(initial=f"tab-{self.start_panel}"):
            for n, (ident, title) in enumerate(PANELS, start=1):
                with TabPane(f"{n} {title}", id=f"tab-{ident}"):
                    if ident in _LISTS:
                        yield _LISTS[ident](self.backend, self.clock, id=ident)
                    else:
                        yield UnavailablePanel(id=ident)
        yield Footer(compact=True, show_command_palette=False)

    async def on_mount(self) -> None:
        self.follow_events()
        self._focus_active()

    async def on_unmount(self) -> None:
        await self.backend.close()

    async def on_event(self, event: events.Event) -> None:
        # A focused terminal takes every key but its own (leaving it, its
        # scrollback), before any binding: ctrl+C, ctrl+P, ctrl+Q and the
        # rest belong to the program in it, as in any terminal.
        if isinstance(event, events.Key) and not event.is_forwarded:
            focused = self.focused
            if isinstance(focused, KeyTaker) and focused.takes(event.key):
                focused.send_key(event)
                return
        await super().on_event(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Keys a focused terminal takes are not the app's: the footer says so.
        return not isinstance(self.focused, KeyTaker)

    # Panels

    def panels(self) -> list[Panel]:
        return list(self.query(Panel))

    def panel(self, ident: str) -> Panel:
        return self.query_one(f"#{ident}", Panel)

    def action_show_panel(self, ident: str) -> None:
        self.query_one(TabbedContent).active = f"tab-{ident}"
        self._focus_active()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self) -> None:
        self._focus_active()

    def _focus_active(self) -> None:
        active = self.query_one(TabbedContent).active.removeprefix("tab-")
        if active in _LISTS:
            panel = self.panel(active)
            panel.shown()
            panel.focus_table()
        else:
            self.query_one(f"#{active}", UnavailablePanel).focus()

    # Following the core

    @work(group="events")
    async def follow_events(self) -> None:
        """Hand every new event to the panels, for as long as the app runs."""
        seq = -1
        while True:
            try:
                if seq < 0:
                    # Load after noting where the events stand: an event
                    # between the two is applied twice, which changes nothing.
                    # Only the panels shown so far read now; the others read
                    # when first shown, after the first paint.
                    seq = await self.backend.last_event()
                    for panel in self.panels():
                        panel.start_following()
                async for batch in self.backend.watch_events(seq):
                    seq = batch[-1].seq
                    for panel in self.panels():
                        await panel.on_core_events(batch)
            except ServinError as e:
                self.notify(str(e), title="events", severity="error")
                await asyncio.sleep(_RETRY_SECONDS)

    # Help, palette, themes

    def action_help(self) -> None:
        self.push_screen(HelpScreen(self.help_sections()))

    def help_sections(self) -> list[HelpSection]:
        here: list[tuple[str, str]] = []
        moving: list[tuple[str, str]] = []
        everywhere: list[tuple[str, str]] = []
        seen: set[tuple[str, str]] = set()
        own_keys = LiveTable.BINDINGS
        for active in self.active_bindings.values():
            binding = active.binding
            entry = (self.get_key_display(binding), binding.description)
            if not binding.description or entry in seen:
                continue
            # A key its widget turns off (marking in a read-only list) is
            # not offered here either, as the footer does not show it.
            if active.node.check_action(binding.action, ()) is False:
                continue
            seen.add(entry)
            if active.node is self or isinstance(active.node, Screen):
                everywhere.append(entry)
            elif isinstance(active.node, LiveTable) and binding not in own_keys:
                moving.append(entry)
            else:
                here.append(entry)
        return [("This panel", here), ("Moving", moving), ("Everywhere", everywhere)]

    def action_cycle_theme(self) -> None:
        names = list(self.theme_files)
        at = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[at % len(names)]
        self.notify(f"Theme: {self.theme}", title="theme")

    def watch_theme(self, name: str) -> None:
        try:
            remember_theme(self.backend.data_dir, name)
        except OSError as e:
            self.notify(f"theme {name}: not remembered: {e}", severity="warning")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for n, (ident, title) in enumerate(PANELS, start=1):
            yield SystemCommand(
                f"Go to {title}",
                f"Show the {title} panel (key {n})",
                partial(self.action_show_panel, ident),
            )
        for ident, panel_class in _LISTS.items():
            for title, help_text, action in panel_class.COMMANDS:
                yield SystemCommand(
                    title, help_text, partial(self._panel_action, ident, action)
                )
        yield SystemCommand("Help", "Show every key", self.action_help)
        yield SystemCommand(
            "Next theme", "Cycle dark, light, high contrast", self.action_cycle_theme
        )
        yield from super().get_system_commands(screen)

    def _panel_action(self, ident: str, action: str) -> None:
        self.action_show_panel(ident)
        self.call_next(self.run_action, action, self.panel(ident))
