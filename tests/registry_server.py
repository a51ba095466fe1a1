"""A throwaway docker-registry on loopback: the launcher the test fixtures
(registry_fixtures.py) and the pull benchmark (bench/pull) share.

Standard library only, so that a benchmark can load it without the test
tools (pytest, cryptography) that the fixtures need.
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "REGISTRY_BINARY",
    "RegistryServer",
    "free_port",
    "start_registry",
    "unique_repo",
]

REGISTRY_BINARY = "/usr/bin/docker-registry"
_STARTUP_SECONDS = 30


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def unique_repo(prefix: str = "test") -> str:
    """A repository name no other test uses, e.g. ``test/ab12cd34``."""
    return f"{prefix}/{secrets.token_hex(4)}"


@dataclass
class RegistryServer:
    """A running docker-registry process."""

    host: str
    """``127.0.0.1:PORT``, as it appears in image references."""
    storage: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def log_text(self) -> str:
        """Everything the registry logged so far."""
        return self.log_path.read_text(errors="replace")

    def repository_dir(self, name: str) -> Path:
        return self.storage / "docker/registry/v2/repositories" / name

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_registry(
    workdir: Path, auth: dict[str, Any] | None = None, *, quiet: bool = False
) -> RegistryServer:
    """Start docker-registry under ``workdir`` and wait until /v2/ answers.

    ``quiet`` keeps its log to warnings: a benchmark must not time an access
    log line per request; tests keep the access log to read it back.
    """
    storage = workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log_settings = {"level": "info", "accesslog": {"disabled": False}}
    if quiet:
        log_settings = {"level": "warn", "accesslog": {"disabled": True}}
    config: dict[str, Any] = {
        "version": 0.1,
        "log": log_settings,
        "storage": {
            "filesystem": {"rootdirectory": str(storage)},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
    }
    if auth:
        config["auth"] = auth
    # JSON is YAML: no YAML library needed.
    config_path = workdir / "config.yml"
    config_path.write_text(json.dumps(config))

    log_path = workdir / "registry.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(config_path)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = RegistryServer(f"127.0.0.1:{port}", storage, log_path, process)
    try:
        _wait_until_up(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_until_up(server: RegistryServer) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/v2/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # 401: up, and asking for credentials
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not answer:\n{server.log_text()}")
