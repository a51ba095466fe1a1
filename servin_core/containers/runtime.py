"""The OCI runtime (crun or runc): which one, and its command line.

Servin never reimplements the runtime; it runs its CLI. crun is the default,
but it refuses some cgroup layouts (on a hybrid v1/v2 host it stops with
"cgroups in hybrid mode not supported"). So each runtime is probed once per
boot with a container that cannot start: a runtime that gets as far as
looking for the executable can run containers here. The verdict is kept in
the run directory, and a runtime that fails falls back to runc, logged once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core.config import Config
from servin_core.containers.model import Container
from servin_core.errors import Unavailable

__all__ = [
    "Runtime",
    "RuntimeError_",
    "runtime_of",
    "select_runtime",
    "unusable_reason",
]

_FALLBACK = "runc"
_verdicts: dict[str, str] = {}
_probe_lock = threading.Lock()
"""Runtime name -> "" when usable, else why not (this process's cache)."""


class RuntimeError_(Unavailable):
    """The runtime's command failed; ``output`` is what it said."""

    def __init__(self, ident: str, reason: str, output: str) -> None:
        super().__init__("container", ident, reason)
        self.output = output


@dataclass(frozen=True, eq=False)
class Runtime:
    """An OCI runtime binary (runc or crun) with its state directory."""

    name: str
    path: str
    root: Path
    """The runtime's own state directory (``--root``)."""

    def argv(self, *args: str) -> list[str]:
        return [self.path, "--root", str(self.root), *args]

    async def run(self, ident: str, *args: str) -> str:
        """Run ``runtime ARGS`` for container ``ident``; its stdout."""
        # Imported here: a plain ``run`` starts its container before it
        # imports the event loop (see servin_tui/cli/containers_run.py).
        import asyncio

        process = await asyncio.create_subprocess_exec(
            *self.argv(*args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise _failure(self, ident, args, err)
        return out.decode(errors="replace")

    def run_sync(self, ident: str, *args: str) -> str:
        done = subprocess.run(
            self.argv(*args), stdin=subprocess.DEVNULL, capture_output=True
        )
        if done.returncode != 0:
            raise _failure(self, ident, args, done.stderr)
        return done.stdout.decode(errors="replace")

    def state(self, ident: str) -> dict[str, Any] | None:
        """The runtime's view of the container, or None if it knows none."""
        if not (self.root / ident).exists():
            return None
        try:
            state: dict[str, Any] = json.loads(self.run_sync(ident, "state", ident))
        except (RuntimeError_, ValueError):
            return None
        return state

    def delete_sync(self, ident: str) -> None:
        """Kill and forget the container, whatever its state; no error if
        the runtime does not know it."""
        self.delete_started(ident)()

    def delete_started(self, ident: str) -> Callable[[], None]:
        """Start :meth:`delete_sync`'s work; returns what waits for its end
        (and raises as it would). The runtime is a program of its own that
        takes a while to start: the caller can do other work meanwhile."""
        if not (self.root / ident).exists():
            return lambda: None
        process = subprocess.Popen(
            self.argv("delete", "--force", ident),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

        def finish() -> None:
            _, err = process.communicate()
            if process.returncode == 0:
                return
            error = _failure(self, ident, ("delete",), err)
            if (self.root / ident).exists():
                raise error
            log.for_object(log.containers, "container", ident).debug("%s", error)

        return finish


def _failure(
    runtime: Runtime, ident: str, args: tuple[str, ...], stderr: bytes
) -> RuntimeError_:
    output = stderr.decode(errors="replace").strip()
    return RuntimeError_(ident, f"{runtime.name} {args[0]} failed: {output}", output)


def runtime_of(config: Config, container: Container) -> Runtime:
    """The runtime ``container`` was created with (no probe: it ran before)."""
    path = shutil.which(container.runtime) or container.runtime
    root = config.run_dir / "runtime" / container.runtime
    return Runtime(container.runtime, path, root)


def select_runtime(config: Config, requested: str | None) -> Runtime:
    """The runtime for a container that asked for ``requested`` (or the
    configured default); runc when the choice cannot run containers here."""
    name = requested or config.default_runtime
    if name not in ("crun", "runc"):
        raise Unavailable("runtime", name, "unknown OCI runtime (crun or runc)")
    if name != _FALLBACK:
        why = _verdict(config, name)
        if why:
            name = _FALLBACK
    path = shutil.which(name)
    if path is None:
        raise Unavailable("runtime", name, "not installed")
    return Runtime(name, path, config.run_dir / "runtime" / name)


def unusable_reason(config: Config, name: str) -> str:
    """Why runtime ``name`` cannot run containers here, "" if it can (probed
    once per boot, as :func:`select_runtime` does)."""
    if shutil.which(name) is None:
        return "not installed"
    return _verdict(config, name)


def _verdict(config: Config, name: str) -> str:
    """Why ``name`` cannot run containers here ("" if it can), once per boot."""
    if name in _verdicts:
        return _verdicts[name]
    # One probe at a time in this process: concurrent starts (a daemon's
    # clients) would share the probe's bundle and temporary file.
    with _probe_lock:
        if name in _verdicts:
            return _verdicts[name]
        return _verdict_locked(config, name)


def _verdict_locked(config: Config, name: str) -> str:
    record = config.run_dir / "runtime" / f"{name}.probe"
    try:
        why = record.read_text()
    except FileNotFoundError:
        why = _probe(config, name)
        record.parent.mkdir(parents=True, exist_ok=True)
        temp = record.with_suffix(f".{os.getpid()}")
        temp.write_text(why)
        os.replace(temp, record)
        if why:
            log.runtime.warning(
                "%s cannot run containers here (%s): using runc", name, why
            )
    _verdicts[name] = why
    return why


def _probe(config: Config, name: str) -> str:
    path = shutil.which(name)
    if path is None:
        return "not installed"
    bundle = config.run_dir / "runtime" / f"probe-{os.getpid()}"
    (bundle / "rootfs").mkdir(parents=True, exist_ok=True)
    ident = f"servin-probe-{os.getpid()}"
    spec = {
        "ociVersion": "1.0.2",
        "process": {
            "args": ["/servin-probe"],
            "cwd": "/",
            "user": {"uid": 0, "gid": 0},
        },
        "root": {"path": "rootfs"},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {
            "namespaces": [{"type": "mount"}, {"type": "pid"}],
            "cgroupsPath": f"/servin/{ident}",
        },
    }
    (bundle / "config.json").write_text(json.dumps(spec))
    root = bundle / "state"
    try:
        done = subprocess.run(
            [path, "--root", str(root), "run", "--bundle", str(bundle), ident],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=30,
        )
        output = (done.stdout + done.stderr).decode(errors="replace")
    finally:
        subprocess.run(
            [path, "--root", str(root), "delete", "--force", ident],
            capture_output=True,
        )
        shutil.rmtree(bundle, ignore_errors=True)
    # Getting as far as the missing executable means everything before it
    # (namespaces, cgroups, the root) works.
    if "servin-probe" in output and (
        "no such file" in output.lower() or "not found" in output.lower()
    ):
        return ""
    return " ".join(output.split())[:300] or f"exit status {done.returncode}"
