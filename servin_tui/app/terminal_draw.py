"""Drawing a pyte screen line as a Textual strip.

Cells of one style are joined into one segment; styles come from a cache
keyed by pyte's attributes, so a screenful costs one dictionary look-up per
cell. pyte's colours are its names for the 16 ANSI colours (with its own
spellings) or six hex digits for the 256-colour and true-colour ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from pyte.screens import Char
from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

__all__ = ["line_strip"]

_COLOURS = {"brown": "yellow", "bfightmagenta": "bright_magenta"}
"""pyte's names that Rich spells otherwise (a typo in pyte included)."""


def line_strip(
    line: Mapping[int, Char], cursor: int | None, width: int, base: Style
) -> Strip:
    """One screen line as a strip, runs of one style joined."""
    segments: list[Segment] = []
    run: list[str] = []
    run_style: Style | None = None
    for x in range(width):
        char = line[x]
        if not char.data:
            continue  # the right half of a wide character
        style = _style(char)
        if x == cursor:
            style = style + Style(reverse=not char.reverse)
        if style is not run_style and run:
            segments.append(Segment("".join(run), base + run_style))
            run = []
        run_style = style
        run.append(char.data)
    if run:
        segments.append(Segment("".join(run), base + run_style))
    return Strip(segments).adjust_cell_length(width, base)


def _style(char: Char) -> Style:
    return _style_of(
        char.fg,
        char.bg,
        char.bold,
        char.italics,
        char.underscore,
        char.strikethrough,
        char.reverse,
        char.blink,
    )


@lru_cache(maxsize=1024)
def _style_of(
    fg: str,
    bg: str,
    bold: bool,
    italic: bool,
    underline: bool,
    strike: bool,
    reverse: bool,
    blink: bool,
) -> Style:
    return Style(
        color=_colour(fg),
        bgcolor=_colour(bg),
        bold=bold or None,
        italic=italic or None,
        underline=underline or None,
        strike=strike or None,
        reverse=reverse or None,
        blink=blink or None,
    )


def _colour(name: str) -> str | None:
    """pyte's colour (a name, ``brightred``, or hex digits) for Rich."""
    if name == "default":
        return None
    if len(name) == 6 and all(c in "0123456789abcdefABCDEF" for c in name):
        return f"#{name}"
    name = _COLOURS.get(name, name)
    if name.startswith("bright") and not name.startswith("bright_"):
        name = "bright_" + _COLOURS.get(name[6:], name[6:])
    return name
