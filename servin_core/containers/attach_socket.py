"""conmon's attach socket and control fifo: the wire under ``attach``.

conmon (2.1.6) listens on a unix socket named ``attach`` in the bundle
(the container's data directory; ``--socket-dir-path`` only gets a
symlink to it). The socket is SOCK_SEQPACKET, so message boundaries hold:

- from conmon: each message is one read of the container's output,
  prefixed by a byte naming the stream (2 stdout, 3 stderr; a terminal has
  only stdout). Output reaches only clients connected when it is written:
  nothing is replayed. When the container has exited and its output is
  drained, conmon closes the connection: reading gives EOF.
- to conmon: raw bytes for the container's stdin, which conmon writes as
  they come (its read buffer is 32 KiB; a longer message would be cut, so
  input is sent in smaller pieces). When a client stops sending (half
  close, or close), conmon closes the container's stdin unless it runs
  with ``--leave-stdin-open``.

The terminal's window size is set through the ``ctl`` fifo beside it:
``1 HEIGHT WIDTH\\n``. The fifo is opened without blocking, so a conmon
that is gone (no reader) is an error rather than a hang.

The bundle may lie deeper than a socket address can name (107 bytes): the
socket is reached through /proc/self/fd of the directory, opened O_PATH.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from pathlib import Path

from servin_core.errors import InvalidArgument, Unavailable

__all__ = ["STREAMS", "AttachConnection", "connect", "write_window_size"]

STREAMS = {2: "stdout", 3: "stderr"}
"""conmon's prefix byte for each stream."""
_RECEIVE_SIZE = 65536
_SEND_SIZE = 8192
_RESIZE_EVENT = 1
_MAX_SIZE = 1000
"""conmon refuses window sizes above this (rows and columns)."""


def connect(bundle: Path, ident: str) -> AttachConnection:
    """Connect to the attach socket in ``bundle`` (blocking, but conmon
    accepts at once). Unavailable naming ``ident`` if conmon is not there."""
    try:
        directory = os.open(bundle, os.O_PATH | os.O_CLOEXEC)
    except OSError as e:
        raise Unavailable("container", ident, f"no attach socket: {e}") from e
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        sock.connect(f"/proc/self/fd/{directory}/attach")
    except OSError as e:
        sock.close()
        raise Unavailable(
            "container", ident, f"cannot attach (is its conmon running?): {e}"
        ) from e
    finally:
        os.close(directory)
    sock.setblocking(False)
    return AttachConnection(sock)


class AttachConnection:
    """One client connection to conmon's attach socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._input_closed = False

    async def receive(self) -> tuple[str, bytes] | None:
        """The next piece of output and its stream; None once conmon has
        closed the connection (the container exited)."""
        loop = asyncio.get_running_loop()
        while True:
            try:
                message = await loop.sock_recv(self._sock, _RECEIVE_SIZE)
            except ConnectionResetError:
                return None
            if not message:
                return None
            stream = STREAMS.get(message[0])
            # Anything else (conmon's other prefixes) is not output.
            if stream is not None and len(message) > 1:
                return stream, message[1:]

    async def send(self, data: bytes) -> None:
        """Input for the container's stdin."""
        loop = asyncio.get_running_loop()
        for start in range(0, len(data), _SEND_SIZE):
            await loop.sock_sendall(self._sock, data[start : start + _SEND_SIZE])

    def close_input(self) -> None:
        """End of input: conmon closes the container's stdin unless it was
        told to leave it open. Output keeps coming."""
        if not self._input_closed:
            self._input_closed = True
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._sock.close()


def write_window_size(bundle: Path, ident: str, height: int, width: int) -> None:
    """Ask conmon to set the terminal's size (rows, columns)."""
    if not (0 < height <= _MAX_SIZE and 0 < width <= _MAX_SIZE):
        raise InvalidArgument(
            "container", ident, f"window size {height}x{width} is out of range"
        )
    message = f"{_RESIZE_EVENT} {height} {width}\n".encode()
    try:
        fd = os.open(bundle / "ctl", os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        raise Unavailable(
            "container", ident, f"cannot resize (is its conmon running?): {e}"
        ) from e
    try:
        os.write(fd, message)
    finally:
        os.close(fd)
