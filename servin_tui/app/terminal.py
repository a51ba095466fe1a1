"""A terminal inside the TUI: a pty's output through a pyte emulator.

The widget starts its session (through ``opener``, with the size it was
laid out at), feeds everything the session reads to a pyte screen and
redraws only the lines pyte marked dirty (and the lines the cursor left
and reached), each drawn once into a cached strip. Keys go to the program
as an xterm sends them (terminal_keys.py); the app hands this widget every
key while it has focus, ctrl+C and ctrl+Q included, except its own three:
ctrl+] leaves, shift+PageUp/PageDown scroll back through lines that left
the top of the screen.

TODO: pyte has no alternate screen (xterm's mode 1049), so a full-screen
program's picture stays in the scrollback after it quits; no mouse
reporting either. A fuller emulator would be needed for both.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping

import pyte
from pyte.screens import Char, Margins
from textual import events, work
from textual.binding import Binding
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.worker import get_current_worker

from servin_core.errors import ServinError
from servin_tui.app.backend import ExecSession
from servin_tui.app.terminal_draw import line_strip
from servin_tui.app.terminal_keys import key_bytes

__all__ = ["LEAVE_KEY", "Opener", "Terminal"]

LEAVE_KEY = "ctrl+right_square_bracket"
"""ctrl+], as telnet's escape: rarely wanted by a program in a shell."""

Opener = Callable[[int, int], Awaitable[ExecSession]]
"""Starts the session at a size (columns, rows)."""

_HISTORY = 1000
_DECCKM = 1 << 5  # pyte keeps private modes shifted left by 5
_BRACKETED_PASTE = 2004 << 5


class _Screen(pyte.Screen):
    """pyte's screen, keeping the lines that scroll off its top and sending
    the replies the program asks for (cursor position, device status)."""

    def __init__(self, columns: int, lines: int, reply: Callable[[str], None]) -> None:
        super().__init__(columns, lines)
        self.history: deque[Mapping[int, Char]] = deque(maxlen=_HISTORY)
        self.reply = reply

    def index(self) -> None:
        top, bottom = self.margins or Margins(0, self.lines - 1)
        if self.cursor.y == bottom and top == 0:
            self.history.append(self.buffer[0])
        super().index()

    def write_process_input(self, data: str) -> None:
        self.reply(data)


class Terminal(Widget, can_focus=True):
    """A program's screen; every key but its own goes to the program."""

    BINDINGS = [
        Binding(LEAVE_KEY, "leave", "Leave terminal"),
        Binding("shift+pageup", "scroll_back", "Scroll back", show=False),
        Binding("shift+pagedown", "scroll_forward", "Scroll forward", show=False),
    ]

    DEFAULT_CSS = """
    Terminal {
        height: 1fr;
        background: $background;
        color: $foreground;
    }
    """

    exit_code: reactive[int | None] = reactive(None)
    """The program's exit status once it ended."""

    class Started(Message):
        """The program started."""

    class Left(Message):
        """The user left the terminal (its leave key)."""

    class Ended(Message):
        """The program ended (``code``) or never started (``error``)."""

        def __init__(self, code: int | None, error: str = "") -> None:
            super().__init__()
            self.code = code
            self.error = error

    def __init__(self, opener: Opener, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.opener = opener
        self.session: ExecSession | None = None
        self._screen = _Screen(80, 24, self._reply)
        self._stream = pyte.ByteStream(self._screen)
        self._strips: dict[int, Strip] = {}
        self._cursor = (0, 0, False)
        self._back = 0
        """Lines scrolled back into the history (0: the live screen)."""
        self._outgoing: list[bytes | tuple[int, int]] = []
        self._opening = False

    # What tests and the panel read

    def lines(self) -> list[str]:
        """The screen's text, line by line (no trailing spaces)."""
        return [line.rstrip() for line in self._screen.display]

    # Session

    def on_resize(self, event: events.Resize) -> None:
        columns, rows = self.size.width, self.size.height
        if columns < 1 or rows < 1:
            return
        if (columns, rows) != (self._screen.columns, self._screen.lines):
            self._screen.resize(rows, columns)
            self._strips.clear()
            self.refresh()
            if self._opening:  # sent once the session is there
                self._send((columns, rows))
        if self.session is None and not self._opening:
            self._opening = True
            self._run(columns, rows)

    @work(group="terminal")
    async def _run(self, columns: int, rows: int) -> None:
        """Open the session, then draw what it prints until it ends."""
        try:
            self.session = await self.opener(columns, rows)
        except ServinError as e:
            self.post_message(self.Ended(None, str(e)))
            return
        self.post_message(self.Started())
        self._flush()
        session = self.session
        while data := await session.read():
            self._stream.feed(data)
            self._repaint()
        try:
            code = await session.wait()
        except ServinError as e:
            self.post_message(self.Ended(None, str(e)))
            return
        self.exit_code = code
        self.post_message(self.Ended(code))

    async def close(self) -> None:
        """End the program if it still runs."""
        if self.session is not None:
            await self.session.close()

    async def on_unmount(self) -> None:
        await self.close()

    def _reply(self, data: str) -> None:
        self._send(data.encode())

    def _send(self, item: bytes | tuple[int, int]) -> None:
        """Queue keys or a size for the session, in order."""
        self._outgoing.append(item)
        if self.session is not None and len(self._outgoing) == 1:
            self._flush()

    @work(group="terminal-out")
    async def _flush(self) -> None:
        session = self.session
        assert session is not None
        worker = get_current_worker()
        while self._outgoing and not worker.is_cancelled:
            item = self._outgoing[0]
            if isinstance(item, tuple):
                await session.resize(*item)
            else:
                await session.write(item)
            del self._outgoing[0]

    # Keys

    def takes(self, key: str) -> bool:
        """Whether ``key`` goes to the program (not one of ours)."""
        return key not in (LEAVE_KEY, "shift+pageup", "shift+pagedown")

    def send_key(self, event: events.Key) -> None:
        """Send ``event`` as an xterm would; a key ends a look back."""
        if self.exit_code is not None:
            return
        app_cursor = _DECCKM in self._screen.mode
        data = key_bytes(event.key, event.character, app_cursor=app_cursor)
        if data:
            self._look_back(0)
            self._send(data)

    def on_focus(self) -> None:
        self._redraw_cursor()

    def on_blur(self) -> None:
        # As in tmux: no cursor where the keys do not go.
        self._redraw_cursor()

    def _redraw_cursor(self) -> None:
        y = self._screen.cursor.y
        self._strips.pop(y, None)
        self.refresh(Region(0, y, self.size.width, 1))

    def on_paste(self, event: events.Paste) -> None:
        event.stop()
        text = event.text.replace("\r\n", "\r").replace("\n", "\r")
        if _BRACKETED_PASTE in self._screen.mode:
            text = f"\x1b[200~{text}\x1b[201~"
        self._send(text.encode())

    def action_leave(self) -> None:
        self.post_message(self.Left())

    def action_scroll_back(self) -> None:
        self._look_back(self._back + max(1, self.size.height // 2))

    def action_scroll_forward(self) -> None:
        self._look_back(self._back - max(1, self.size.height // 2))

    def _look_back(self, back: int) -> None:
        back = max(0, min(back, len(self._screen.history)))
        if back != self._back:
            self._back = back
            self.refresh()

    # Drawing

    def _repaint(self) -> None:
        """Redraw the lines the output changed, and the cursor's."""
        screen = self._screen
        dirty = set(screen.dirty)
        screen.dirty.clear()
        cursor = (screen.cursor.y, screen.cursor.x, screen.cursor.hidden)
        if cursor != self._cursor:
            dirty.update((self._cursor[0], cursor[0]))
            self._cursor = cursor
        if self._back:
            self._back = 0
            dirty = set(range(screen.lines))
        for y in dirty:
            self._strips.pop(y, None)
        if len(dirty) >= screen.lines:
            self.refresh()
        else:
            for y in dirty:
                self.refresh(Region(0, y, self.size.width, 1))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    def render_line(self, y: int) -> Strip:
        screen = self._screen
        width = self.size.width
        base = self.rich_style
        if self._back:
            history = screen.history
            at = len(history) - self._back + y
            if at < len(history):
                return line_strip(history[at], None, width, base)
            y = at - len(history)
        if y >= screen.lines:
            return Strip.blank(width, base)
        strip = self._strips.get(y)
        if strip is None:
            cursor = screen.cursor
            shown = y == cursor.y and not cursor.hidden and self.has_focus
            strip = line_strip(
                screen.buffer[y], cursor.x if shown else None, width, base
            )
            if not self._back:
                self._strips[y] = strip
        return strip
