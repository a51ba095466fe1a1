"""A store full of created containers, grown size by size.

The busybox root filesystem is the one the test suite uses
(tests/busybox_rootfs.py, loaded by path), imported once as ``busybox``.
Containers are made with the core's own ``lifecycle.create``, as
``servin-tui create`` makes them, and are never started: the benchmark is
about listing them, not running them. The store only grows, so that the
sizes can be measured in increasing order without making the smaller
containers again.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import cast

from servin_core.config import Config
from servin_core.containers import lifecycle
from servin_core.containers.model import ContainerConfig
from servin_core.core import Core
from servin_core.images.importer import import_image

__all__ = ["IMAGE", "Store", "container_name"]

IMAGE = "busybox"
_BUILDER = Path(__file__).resolve().parents[2] / "tests" / "busybox_rootfs.py"


def container_name(number: int) -> str:
    """The name of the ``number``-th container made (from 1): sortable and
    easy to look for on the screen."""
    return f"bench-{number:05d}"


def build_rootfs_tar(path: Path) -> Path:
    """Write the busybox root filesystem tar to ``path``."""
    # Loaded by path: tests/ is not a package, and putting it on sys.path
    # would let its modules shadow others.
    spec = importlib.util.spec_from_file_location("_bench_busybox_rootfs", _BUILDER)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load {_BUILDER}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    build = cast(Callable[[Path], Path], module.build_busybox_rootfs)
    return build(path)


class Store:
    """A Servin root under ``root`` with the busybox image and ``count``
    created containers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = Config(data_dir=root, run_dir=root / "run")
        self.count = 0
        self.short_ids: list[str] = []
        """The containers' IDs as the list shows them, oldest first."""

    def import_busybox(self, tarball: Path) -> None:
        asyncio.run(self._import(tarball))

    def grow_to(self, count: int) -> None:
        """Create containers until there are ``count``."""
        if count > self.count:
            asyncio.run(self._create(count))

    async def _import(self, tarball: Path) -> None:
        core = Core.open(self.config)
        try:
            with tarball.open("rb") as source:
                await import_image(core, source, IMAGE)
        finally:
            core.close()

    async def _create(self, count: int) -> None:
        core = Core.open(self.config)
        # No network: the containers are never started, and the default
        # network's subnet may clash with a route of the host (podman's).
        config = ContainerConfig(image=IMAGE, cmd=["sleep", "3600"], network="none")
        try:
            while self.count < count:
                name = container_name(self.count + 1)
                container = await lifecycle.create(core, config, name=name)
                self.short_ids.append(container.id[:12])
                self.count += 1
        finally:
            core.close()
