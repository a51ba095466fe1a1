"""A throwaway docker-registry for the benchmark: loopback, plain HTTP.

The test suite has its own launcher (tests/registry_fixtures.py), but it
imports pytest and cryptography at module level for its fixtures and token
server; a benchmark should run with the project's runtime dependencies
alone, so it starts the registry itself. Logging is kept to warnings: an
access log line per request would be written while the tools are timed.
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

__all__ = ["REGISTRY_BINARY", "Registry", "start_registry"]

REGISTRY_BINARY = "/usr/bin/docker-registry"
_STARTUP_SECONDS = 30


@dataclass
class Registry:
    """A running docker-registry process."""

    host: str
    """``127.0.0.1:PORT``, as image references name it."""
    storage: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_registry(workdir: Path) -> Registry:
    """Start docker-registry with its storage under ``workdir``; wait for it."""
    storage = workdir / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "warn", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(storage)}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": secrets.token_hex(16)},
    }
    # YAML is a superset of JSON, so no YAML library is needed.
    config_path = workdir / "config.yml"
    config_path.write_text(json.dumps(config))

    log_path = workdir / "registry.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [REGISTRY_BINARY, "serve", str(config_path)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    registry = Registry(f"127.0.0.1:{port}", storage, log_path, process)
    try:
        _wait_until_up(registry)
    except BaseException:
        registry.stop()
        raise
    return registry


def _wait_until_up(registry: Registry) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if registry.process.poll() is not None:
            raise RuntimeError(f"docker-registry exited:\n{registry.log_text()}")
        try:
            with urllib.request.urlopen(f"http://{registry.host}/v2/", timeout=2):
                return
        except urllib.error.HTTPError:
            return  # any HTTP answer means it is serving
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"docker-registry did not answer:\n{registry.log_text()}")
