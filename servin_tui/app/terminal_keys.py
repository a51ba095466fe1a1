"""Keys as an xterm sends them to the program in its pty.

Textual names a key (``ctrl+up``, ``f5``, ``shift+tab``) and sometimes
gives its character; the program in the container expects the bytes an
xterm would write for it (TERM=xterm is what exec sets): CSI sequences
with the modifiers as a parameter, SS3 for the cursor keys while the
program asked for "application cursor keys" (DECCKM, as shells' line
editors and full-screen programs do), control characters for ctrl and a
leading ESC for alt.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from textual import events

__all__ = ["KeyTaker", "key_bytes"]


@runtime_checkable
class KeyTaker(Protocol):
    """A widget that takes keys before any binding (a terminal: ctrl+C
    and ctrl+Q are the program's there). The app asks the focused widget;
    this module is light, so the app need not import the emulator."""

    def takes(self, key: str) -> bool:
        """Whether ``key`` goes to the widget rather than to bindings."""
        ...

    def send_key(self, event: events.Key) -> None: ...


_CSI = "\x1b["
_SS3 = "\x1bO"

_CURSOR = {"up": "A", "down": "B", "right": "C", "left": "D", "home": "H", "end": "F"}
"""Keys that are CSI or SS3 plus a letter."""

_TILDE = {
    "insert": 2,
    "delete": 3,
    "pageup": 5,
    "pagedown": 6,
    "f5": 15,
    "f6": 17,
    "f7": 18,
    "f8": 19,
    "f9": 20,
    "f10": 21,
    "f11": 23,
    "f12": 24,
}
"""Keys that are ``CSI n ~``."""

_PF = {"f1": "P", "f2": "Q", "f3": "R", "f4": "S"}
"""F1-F4: SS3 plus a letter, as the VT100's PF keys."""

_PLAIN = {
    "enter": "\r",
    "tab": "\t",
    "escape": "\x1b",
    "backspace": "\x7f",
    "space": " ",
}

_CONTROL_PUNCTUATION = {
    "space": "\x00",
    "at": "\x00",
    "left_square_bracket": "\x1b",
    "backslash": "\x1c",
    "right_square_bracket": "\x1d",
    "circumflex_accent": "\x1e",
    "underscore": "\x1f",
    "question_mark": "\x7f",
}

_MODIFIER_BITS = {"shift": 1, "alt": 2, "ctrl": 4, "meta": 8}


def key_bytes(key: str, character: str | None, *, app_cursor: bool = False) -> bytes:
    """The bytes for Textual's ``key`` (with its ``character``, if any);
    empty when an xterm sends nothing for it."""
    *modifiers, base = key.split("+")
    mods = set(modifiers)
    param = 1 + sum(_MODIFIER_BITS.get(m, 0) for m in mods)

    if base in _CURSOR:
        letter = _CURSOR[base]
        if mods:
            return f"{_CSI}1;{param}{letter}".encode()
        return f"{_SS3 if app_cursor else _CSI}{letter}".encode()
    if base in _TILDE:
        number = _TILDE[base]
        suffix = f";{param}" if mods else ""
        return f"{_CSI}{number}{suffix}~".encode()
    if base in _PF:
        if mods:
            return f"{_CSI}1;{param}{_PF[base]}".encode()
        return f"{_SS3}{_PF[base]}".encode()
    if key == "shift+tab":
        return f"{_CSI}Z".encode()

    text = _text(mods, base, character)
    if "alt" in mods or "meta" in mods:
        return ("\x1b" + text).encode() if text else b""
    return text.encode()


def _text(mods: set[str], base: str, character: str | None) -> str:
    """What the key types, before an alt's ESC."""
    if "ctrl" in mods:
        if len(base) == 1 and base.isascii() and base.isalpha():
            return chr(ord(base.lower()) - ord("a") + 1)
        return _CONTROL_PUNCTUATION.get(base, "")
    if base in _PLAIN:
        return _PLAIN[base]
    if character is not None and character.isprintable():
        return character
    if len(base) == 1:
        return base
    return ""
