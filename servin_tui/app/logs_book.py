"""The lines of one or more containers' logs, in time order, and how each
line is drawn.

The book keeps every complete line it was given (a line conmon wrote in
parts is joined first), ordered by the time conmon read it, so the logs of
several containers interleave as they happened. Drawing is a function of a
line and the viewer's switches (timestamps, tags, the search), so the viewer
can redraw from memory and save exactly what it shows.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from servin_core._dataclass import dataclass
from servin_core.containers.logs import LogLine

__all__ = ["Entry", "LogBook", "Look", "draw", "search_pattern"]

TAG_COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "bright_white")
"""Each container's tag colour, in the order the containers were chosen
(no red: red is stderr's)."""

_MATCH_STYLE = "reverse bold"
_ERR_STYLE = "red"


@dataclass(frozen=True, slots=True)
class Entry:
    """One complete line of one container's output."""

    source: int
    """Which container (an index into the book's names)."""
    stream: str
    time: datetime
    text: str
    """The line without its newline."""
    seq: int
    """Arrival order: lines with the same time keep it."""

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.time, self.seq)


@dataclass(frozen=True, slots=True)
class Look:
    """The viewer's switches that change how a line reads."""

    timestamps: bool = False
    tagged: bool = False
    pattern: re.Pattern[str] | None = None
    """What the search highlights, or None."""


def search_pattern(text: str) -> re.Pattern[str] | None:
    """The search for ``text`` (literal, any case); None for no search."""
    return re.compile(re.escape(text), re.IGNORECASE) if text else None


class LogBook:
    """Complete lines of the containers ``names``, oldest first."""

    def __init__(self, names: Sequence[str], *, limit: int = 20_000) -> None:
        self.names = list(names)
        self.limit = limit
        self.entries: list[Entry] = []
        self._pending: dict[tuple[int, str], tuple[datetime, str]] = {}
        """Per container and stream, the start of a line written in parts."""
        self._seq = 0
        self._width = max((len(name) for name in self.names), default=0)

    def add(self, source: int, line: LogLine) -> int | None:
        """Take one line of container ``source``; the index the completed
        line now has, or None while the line is incomplete."""
        data = line.data.decode(errors="replace")
        key = (source, line.stream)
        started, before = self._pending.pop(key, (line.time, ""))
        if line.partial:
            self._pending[key] = (started, before + data)
            return None

        self._seq += 1
        text = (before + data).rstrip("\n").replace("\r", "")
        entry = Entry(source, line.stream, started, text, self._seq)
        at = bisect.bisect_right(self.entries, entry.order, key=lambda e: e.order)
        self.entries.insert(at, entry)
        return at

    @property
    def last_seq(self) -> int:
        """The arrival number of the newest line."""
        return self._seq

    def trim(self) -> bool:
        """Forget the oldest lines once a tenth past the limit (in steps,
        since the viewer redraws after); True if any went."""
        if len(self.entries) <= self.limit + self.limit // 10:
            return False
        del self.entries[: len(self.entries) - self.limit]
        return True

    def matches(self, entry: Entry, pattern: re.Pattern[str] | None) -> bool:
        return pattern is None or pattern.search(entry.text) is not None

    def tag(self, entry: Entry) -> str:
        return self.names[entry.source].ljust(self._width)


def draw(book: LogBook, entry: Entry, look: Look) -> Text:
    """``entry`` as the viewer shows it: time, tag, then the text, with
    stderr in red and the search's matches reversed."""
    text = Text(entry.text, style=_ERR_STYLE if entry.stream == "stderr" else "")
    if look.pattern is not None:
        text.highlight_regex(look.pattern, _MATCH_STYLE)
    prefix = Text()
    if look.timestamps:
        stamp = entry.time.astimezone().strftime("%Y-%m-%dT%H:%M:%S.%f")
        prefix.append(f"{stamp} ", style="dim")
    if look.tagged:
        colour = TAG_COLOURS[entry.source % len(TAG_COLOURS)]
        prefix.append(book.tag(entry), style=f"bold {colour}")
        prefix.append(" │ ", style=colour)
    return prefix + text if prefix else text
