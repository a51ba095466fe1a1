"""Fixtures of the Engine API tests: a daemon per test, in its own root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_daemon import Daemon

IMAGE = "busybox:latest"


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    served = Daemon(tmp_path / "root")
    served.start()
    try:
        yield served
    finally:
        if served.process is not None:
            for ident in served.docker("ps", "-aq").stdout.split():
                served.docker("rm", "-f", ident)
            served.stop()


@pytest.fixture
def busybox(daemon: Daemon, busybox_rootfs_tar: Path) -> str:
    """busybox imported into the daemon's store (through the CLI, which
    shares it) as ``busybox:latest``."""
    daemon.servin_ok("import", busybox_rootfs_tar, IMAGE)
    return IMAGE
