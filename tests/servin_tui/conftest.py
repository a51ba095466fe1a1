"""Fixtures of the CLI tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Cli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path / "root")


@pytest.fixture
def image(cli: Cli, busybox_rootfs_tar: Path) -> Iterator[str]:
    """busybox imported as busybox-test:1 into the root of ``cli`` (the
    test module's own ``cli`` where it has one); every container is removed
    afterwards."""
    cli.ok("import", busybox_rootfs_tar, "busybox-test:1")
    yield "busybox-test:1"
    remaining = cli("ps", "-a", "-q", "--no-trunc").lines
    if remaining:
        cli("rm", "-f", *remaining)
