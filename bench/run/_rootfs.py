"""The busybox root filesystem every tool runs: one tarball, built once.

The tarball is the one the test suite uses (tests/busybox_rootfs.py, which
needs nothing but the standard library), so the benchmark and the tests run
the same image. Servin and podman import it as ``busybox``; the bare runtime
gets it unpacked into its bundle.
"""

from __future__ import annotations

import importlib.util
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import cast

__all__ = ["IMAGE", "build_rootfs_tar", "unpack"]

IMAGE = "busybox"
"""The name both image stores give the imported root filesystem."""

_BUILDER = Path(__file__).resolve().parents[2] / "tests" / "busybox_rootfs.py"


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


def unpack(tarball: Path, directory: Path) -> None:
    """Unpack ``tarball`` into ``directory`` as root would (owners kept)."""
    directory.mkdir(parents=True)
    subprocess.run(
        ["tar", "-C", str(directory), "--numeric-owner", "-xf", str(tarball)],
        check=True,
        capture_output=True,
    )
