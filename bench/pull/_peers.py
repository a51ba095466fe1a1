"""The tools compared, each pulling into a store of its own made for one run.

Every run starts from a fresh, empty store (a cold pull: nothing is already
there), is timed around its one subprocess, and is then checked (its store
must hold at least the bytes it should have written) and removed, outside
the timing. ``TMPDIR`` points into the store, so that a tool's temporary
files (podman stages blobs there) land on the same file system as the rest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from _store import StoreError, fresh_store, unmount_under

__all__ = [
    "PEERS",
    "Run",
    "Tool",
    "ToolFailed",
    "missing_tools",
    "run_once",
    "servin_cli",
]

_RUN_TIMEOUT = 1800


class ToolFailed(Exception):
    """A tool exited non-zero or left less in its store than it should."""


@dataclass(frozen=True)
class Tool:
    name: str
    command: Callable[[Path, str], list[str]]
    """The command line that pulls a reference into a store."""
    unpacks: bool
    """Whether the tool unpacks layers (podman, Servin) or only stores the
    blobs (skopeo), which decides how much its store must hold."""


def _servin_pull(store: Path, reference: str) -> list[str]:
    return [str(servin_cli()), "--root", str(store), "pull", reference]


def _podman_pull(store: Path, reference: str) -> list[str]:
    return [*_podman(store), "pull", "--tls-verify=false", reference]


def _skopeo_copy(store: Path, reference: str) -> list[str]:
    return [
        "skopeo",
        "copy",
        "--src-tls-verify=false",
        f"docker://{reference}",
        f"oci:{store / 'oci'}:bench",
    ]


PEERS = (
    Tool("servin", _servin_pull, unpacks=True),
    Tool("podman", _podman_pull, unpacks=True),
    Tool("skopeo", _skopeo_copy, unpacks=False),
)


def servin_cli() -> Path:
    """The CLI installed beside the interpreter running the benchmark."""
    return Path(sys.executable).parent / "servin-tui"


def _podman(store: Path) -> list[str]:
    scratch = _short_dir(store)
    return [
        "podman",
        "--root",
        str(store / "root"),
        "--runroot",
        str(scratch / "run"),
        "--tmpdir",
        str(scratch / "tmp"),
        "--storage-driver",
        "overlay",
    ]


def _short_dir(store: Path) -> Path:
    """A directory for ``store``'s transient state with a short path: podman
    refuses a run root of more than 50 characters."""
    base = "/run" if os.access("/run", os.W_OK) else tempfile.gettempdir()
    key = hashlib.sha256(str(store).encode()).hexdigest()[:12]
    return Path(base) / f"servin-bench-{key}"


def missing_tools() -> list[str]:
    """The external programs the benchmark needs and cannot find."""
    missing = [name for name in ("podman", "skopeo") if shutil.which(name) is None]
    if not servin_cli().exists():
        missing.append(str(servin_cli()))
    return missing


@dataclass(frozen=True)
class Run:
    tool: str
    seconds: float
    stored_bytes: int


def run_once(
    tool: Tool, store: Path, reference: str, expected: int, *, file_system: bool
) -> Run:
    """Pull ``reference`` with ``tool`` into a new ``store`` and time it.

    ``expected`` is the least number of bytes the store must hold after it.
    """
    log_path = store.with_name(store.name + ".log")
    size = 4 * expected + (1 << 30)
    try:
        with fresh_store(store, size, file_system=file_system):
            (store / "tmp").mkdir()
            environment = {**os.environ, "TMPDIR": str(store / "tmp")}
            with log_path.open("wb") as log_file:
                start = time.perf_counter()
                result = subprocess.run(
                    tool.command(store, reference),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=environment,
                    timeout=_RUN_TIMEOUT,
                )
                seconds = time.perf_counter() - start
            output = log_path.read_text(errors="replace")
            if result.returncode != 0:
                raise ToolFailed(
                    f"{tool.name} exited with {result.returncode}:\n{output[-4000:]}"
                )
            stored = _tree_bytes(store)
            if stored < expected:
                raise ToolFailed(
                    f"{tool.name} stored {stored} bytes, less than the {expected}"
                    f" it must have written:\n{output[-4000:]}"
                )
    except StoreError as e:
        raise ToolFailed(f"{tool.name}: {e}") from e
    finally:
        log_path.unlink(missing_ok=True)
        scratch = _short_dir(store)
        unmount_under(scratch)
        shutil.rmtree(scratch, ignore_errors=True)
    return Run(tool.name, seconds, stored)


def _tree_bytes(root: Path) -> int:
    """Bytes in the regular files under ``root``, each inode counted once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for directory, _, files in os.walk(root):
        for name in files:
            info = os.lstat(os.path.join(directory, name))
            key = (info.st_dev, info.st_ino)
            if key not in seen and (info.st_mode & 0o170000) == 0o100000:
                seen.add(key)
                total += info.st_size
    return total
