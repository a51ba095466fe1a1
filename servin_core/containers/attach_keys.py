"""Detach keys: the key sequence that leaves a container running and ends
an attach (docker's ``--detach-keys``, ctrl-p ctrl-q by default).

docker's syntax, so that a user's setting means the same here: keys
separated by commas, each a single character or ``ctrl-`` and one of
``a``-``z``, ``@``, ``[``, ``\\``, ``]``, ``^``, ``_``. An empty string
turns detaching off.

The keys are looked for in the input on its way to the container. Bytes
that may begin the sequence are held back until the next byte tells
whether they do: a user who types ctrl-p and then something else gets
both, in order; one who types the whole sequence sends none of it.
"""

from __future__ import annotations

from servin_core.errors import InvalidArgument

__all__ = ["DEFAULT_DETACH_KEYS", "DetachScanner", "parse_detach_keys"]

DEFAULT_DETACH_KEYS = b"\x10\x11"
"""ctrl-p ctrl-q."""

_CONTROL_SYMBOLS = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def parse_detach_keys(text: str) -> bytes:
    """The bytes ``text`` (docker's syntax) stands for; b"" when empty.
    InvalidArgument names the key that is not one."""
    if not text:
        return b""
    keys = bytearray()
    for key in text.split(","):
        lowered = key.lower()
        if lowered.startswith("ctrl-") and len(key) == len("ctrl-") + 1:
            symbol = lowered[-1]
            if "a" <= symbol <= "z":
                keys.append(ord(symbol) - ord("a") + 1)
            elif symbol in _CONTROL_SYMBOLS:
                keys.append(_CONTROL_SYMBOLS[symbol])
            else:
                raise InvalidArgument("detach keys", text, f"{key!r} is not a key")
        elif len(key) == 1 and key.isascii():
            keys.append(ord(key))
        else:
            raise InvalidArgument(
                "detach keys",
                text,
                f"{key!r} is not a key (one character, or ctrl- and a letter)",
            )
    return bytes(keys)


class DetachScanner:
    """Finds the detach sequence in a stream of input, chunk by chunk."""

    def __init__(self, keys: bytes | None) -> None:
        self._keys = keys or b""
        self._held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        """What to pass on now, and whether the sequence was completed
        (then nothing after it is passed on)."""
        if not self._keys:
            return data, False
        out = bytearray()
        for byte in data:
            candidate = self._held + bytes((byte,))
            if self._keys.startswith(candidate):
                if candidate == self._keys:
                    self._held = b""
                    return bytes(out), True
                self._held = candidate
                continue
            # The held bytes were not the sequence after all: they go on,
            # and this byte may itself begin it.
            out += self._held
            self._held = b""
            if self._keys.startswith(bytes((byte,))):
                self._held = bytes((byte,))
            else:
                out.append(byte)
        return bytes(out), False

    def flush(self) -> bytes:
        """At the end of input: what was held back, as typed."""
        held, self._held = self._held, b""
        return held
