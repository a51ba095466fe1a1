"""A real ``servin-tui --headless`` in a temporary root, for the API tests.

The daemon runs as a subprocess, as a user would run it; clients reach it
on its unix socket: the real docker CLI (``DOCKER_HOST=unix://...``), the
docker SDK, or raw HTTP for what the clients hide (headers, HEAD bodies).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netconfig import config_file

__all__ = ["DOCKER", "Daemon", "HttpReply", "PendingWait", "docker_env", "raw_request"]

SERVIN_TUI = Path(sys.executable).parent / "servin-tui"
DOCKER = "/usr/local/bin/docker"


@dataclass
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_request(
    path: Path, method: str, target: str, body: bytes = b"", timeout: float = 60
) -> HttpReply:
    """One HTTP/1.1 request on the unix socket ``path``, read to the end."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        head = (
            f"{method} {target} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
            f"Content-Length: {len(body)}\r\nContent-Type: application/json\r\n\r\n"
        )
        sock.sendall(head.encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    header_text, _, rest = data.partition(b"\r\n\r\n")
    lines = header_text.decode().split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        rest = _unchunk(rest)
    return HttpReply(status, headers, rest)


class PendingWait:
    """``POST /containers/ID/wait`` sent on a socket of its own, its headers
    read: what the caller does next happens while the server waits."""

    def __init__(self, path: Path, ident: str, condition: str) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(60)
        self._sock.connect(str(path))
        self._sock.sendall(
            f"POST /v1.50/containers/{ident}/wait?condition={condition} HTTP/1.1"
            "\r\nHost: docker\r\nContent-Length: 0\r\n\r\n".encode()
        )
        data = b""
        while b"\r\n\r\n" not in data:
            data += self._sock.recv(4096)
        self.head, _, self._rest = data.partition(b"\r\n\r\n")

    def body(self) -> bytes:
        """The rest of the reply, once the wait has answered."""
        with self._sock:
            while b"StatusCode" not in self._rest:
                self._rest += self._sock.recv(4096)
        return self._rest


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_text, _, data = data.partition(b"\r\n")
        size = int(size_text.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return out


def docker_env(socket_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DOCKER_HOST"] = f"unix://{socket_path}"
    env["DOCKER_CONFIG"] = str(socket_path.parent / "docker-config")
    env.pop("DOCKER_CONTEXT", None)
    return env


@dataclass
class Daemon:
    """``servin-tui --root ROOT --headless`` and what clients need to reach it."""

    root: Path
    extra: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root.parent / f"{self.root.name}-daemon.log"

    @property
    def socket(self) -> Path:
        return self.root / "run" / "servin.sock"

    def argv(self) -> list[str]:
        return [
            str(SERVIN_TUI),
            "--root",
            str(self.root),
            "--config",
            str(config_file()),
            "--headless",
            "--log-level",
            "info",
            *self.extra,
        ]

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv(), stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the daemon exited:\n{self.log.read_text()}")
            if self.socket.exists() and "serving on" in self.log.read_text():
                return
            time.sleep(0.05)
        raise RuntimeError(f"the daemon did not come up:\n{self.log.read_text()}")

    def stop(self) -> int:
        """SIGTERM, as a supervisor stops it; its exit status."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self.process = None
        return code

    @property
    def env(self) -> dict[str, str]:
        return docker_env(self.socket)

    def docker(
        self, *args: str, stdin: bytes | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """The real docker CLI against this daemon."""
        return subprocess.run(
            [DOCKER, *args],
            input=stdin.decode() if stdin is not None else None,
            stdin=subprocess.DEVNULL if stdin is None else None,
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )

    def docker_ok(self, *args: str, stdin: bytes | None = None) -> str:
        done = self.docker(*args, stdin=stdin)
        assert done.returncode == 0, f"docker {args}: {done.returncode}\n{done.stderr}"
        return done.stdout

    def servin(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """The real ``servin-tui`` CLI on the same store."""
        return subprocess.run(
            [
                str(SERVIN_TUI),
                "--root",
                str(self.root),
                "--config",
                str(config_file()),
                "--log-level",
                "error",
                *map(str, args),
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def servin_ok(self, *args: str | Path) -> str:
        done = self.servin(*args)
        assert done.returncode == 0, f"servin {args}: {done.returncode}\n{done.stderr}"
        return done.stdout

    def request(self, method: str, target: str, body: Any = None) -> HttpReply:
        data = b"" if body is None else json.dumps(body).encode()
        return raw_request(self.socket, method, target, data)
