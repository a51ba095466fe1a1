"""What an exec or attach sees of its client, whatever the transport.

The transports (WebSocket channels, SPDY streams) feed the client's stdin
and resize messages in, and give the way out: ``Output`` writes the
process's stdout and stderr and, at the end, the status on the error
stream. The exec and attach runners read and write only through this, so
both protocols behave alike.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any, Literal, Protocol

from servin_core._dataclass import dataclass

__all__ = ["Options", "Output", "OutputStream", "RemoteIO", "TerminalSize"]

OutputStream = Literal["stdout", "stderr"]
_RESIZE_LIMIT = 4096
"""Resize text that is not yet a whole message is kept up to this size."""


@dataclass(frozen=True, slots=True)
class Options:
    """Which streams the CRI request asked for."""

    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool


@dataclass(frozen=True, slots=True)
class TerminalSize:
    width: int
    height: int


class Output(Protocol):
    async def write(self, stream: OutputStream, data: bytes) -> bool:
        """Send ``data``; False once the client has gone."""
        ...

    async def finish(self, status: dict[str, Any]) -> None:
        """Send the status on the error stream and end the output."""
        ...


class RemoteIO:
    """The client's side of one exec or attach."""

    def __init__(self, options: Options, output: Output) -> None:
        self.options = options
        self.output = output
        self._stdin: asyncio.Queue[bytes] = asyncio.Queue()
        self._sizes: asyncio.Queue[TerminalSize | None] = asyncio.Queue()
        self._resize_text = ""
        self.gone = asyncio.Event()
        """Set when the client's connection is lost."""

    # The transport's side

    def feed_stdin(self, data: bytes) -> None:
        if data:
            self._stdin.put_nowait(data)

    def end_stdin(self) -> None:
        self._stdin.put_nowait(b"")

    def feed_resize(self, data: bytes) -> None:
        """Resize messages: JSON objects ``{"Width": W, "Height": H}``, one
        after another, possibly split anywhere (a SPDY stream) or one per
        message (WebSocket). Malformed ones are dropped."""
        self._resize_text += data.decode("ascii", errors="replace")
        decoder = json.JSONDecoder()
        while text := self._resize_text.lstrip():
            try:
                value, end = decoder.raw_decode(text)
            except ValueError:
                # Incomplete so far, or garbage: wait for more, within reason.
                if len(text) > _RESIZE_LIMIT:
                    self._resize_text = ""
                else:
                    self._resize_text = text
                return
            self._resize_text = text[end:]
            if isinstance(value, dict):
                width, height = value.get("Width"), value.get("Height")
                if isinstance(width, int) and isinstance(height, int):
                    self._sizes.put_nowait(TerminalSize(width, height))

    def lost(self) -> None:
        """The connection is gone: no more input of any kind."""
        self.end_stdin()
        self._sizes.put_nowait(None)
        self.gone.set()

    # The runner's side

    async def stdin(self) -> AsyncIterator[bytes]:
        """The client's input until it closes stdin (or goes)."""
        while data := await self._stdin.get():
            yield data
        self._stdin.put_nowait(b"")

    async def sizes(self) -> AsyncIterator[TerminalSize]:
        while (size := await self._sizes.get()) is not None:
            yield size
        self._sizes.put_nowait(None)
