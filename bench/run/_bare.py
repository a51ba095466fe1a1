"""The bare OCI runtime: what running the same container costs without Servin.

A bundle holds the unpacked busybox root filesystem and a config.json made
from ``runc spec`` with what Servin's run also asks for: ``true`` with no
terminal, the caller's own rlimits (this host cannot raise them), a new
network namespace holding only loopback. One run is ``runc create``, ``runc
start``, waiting for the process to exit and ``runc delete``: the runtime's
share of ``run --rm``. The container's name and cgroup path are new in every
run, so no run finds another's leftovers.

The process is waited for through a pidfd: it is not our child (``runc
create`` leaves it to init), and a pidfd becomes readable the moment it
exits, with no polling interval added to the time.
"""

from __future__ import annotations

import json
import os
import resource
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from _rootfs import unpack
from _tools import ToolFailed, wait_exact

__all__ = ["RUNTIME", "BareRuntime", "caller_rlimits"]

RUNTIME = "runc"
_TIMEOUT = 60


def caller_rlimits() -> list[dict[str, Any]]:
    """Open files and processes as the caller has them, as Servin sets them."""
    limits = []
    for name, kind in (
        ("RLIMIT_NOFILE", resource.RLIMIT_NOFILE),
        ("RLIMIT_NPROC", resource.RLIMIT_NPROC),
    ):
        soft, hard = resource.getrlimit(kind)
        # RLIM_INFINITY is -1 in Python; the spec wants the unsigned value.
        limits.append(
            {"type": name, "soft": soft % (1 << 64), "hard": hard % (1 << 64)}
        )
    return limits


class BareRuntime:
    """A bundle under ``directory`` and runc state of its own beside it."""

    def __init__(self, directory: Path, tarball: Path) -> None:
        self.bundle = directory / "bundle"
        self.state = directory / "runc-state"
        self._runs = 0
        self._prefix = f"servin-bench-{os.getpid()}"

        unpack(tarball, self.bundle / "rootfs")
        subprocess.run(
            [RUNTIME, "spec", "--bundle", str(self.bundle)],
            check=True,
            capture_output=True,
        )
        self._spec = json.loads((self.bundle / "config.json").read_text())
        process = self._spec["process"]
        process["terminal"] = False
        process["args"] = ["true"]
        process["rlimits"] = caller_rlimits()
        self._spec["root"] = {"path": str(self.bundle / "rootfs"), "readonly": False}

    def run_once(self) -> float:
        """Create, start, wait for and delete one container; its seconds."""
        self._runs += 1
        name = f"{self._prefix}-{self._runs}"
        self._spec["linux"]["cgroupsPath"] = f"/{name}"
        (self.bundle / "config.json").write_text(json.dumps(self._spec))
        pid_file = self.bundle / f"{name}.pid"

        start = time.perf_counter()
        self._runc(
            "create", "--bundle", str(self.bundle), "--pid-file", str(pid_file), name
        )
        pidfd = os.pidfd_open(int(pid_file.read_text()))
        try:
            self._runc("start", name)
            ready, _, _ = select.select([pidfd], [], [], _TIMEOUT)
        finally:
            os.close(pidfd)
        if not ready:
            self._runc("delete", "--force", name)
            raise ToolFailed(f"{RUNTIME}: container {name} did not exit")
        self._runc("delete", name)
        seconds = time.perf_counter() - start

        pid_file.unlink()
        return seconds

    def close(self) -> None:
        """Remove whatever a failed run left in runc's state."""
        if self.state.exists():
            for entry in self.state.iterdir():
                subprocess.run(
                    [
                        RUNTIME,
                        "--root",
                        str(self.state),
                        "delete",
                        "--force",
                        entry.name,
                    ],
                    capture_output=True,
                )
        shutil.rmtree(self.state, ignore_errors=True)

    def _runc(self, *args: str) -> None:
        # A file, not a pipe: the container inherits create's output, and a
        # pipe would stay open (and the call blocked) until it exits.
        log = self.bundle / "runc.log"
        with log.open("wb") as output:
            result = subprocess.Popen(
                [RUNTIME, "--root", str(self.state), *args],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
            wait_exact(result)
        if result.returncode != 0:
            raise ToolFailed(
                f"{RUNTIME} {args[0]} exited with {result.returncode}:\n"
                + log.read_text(errors="replace")[-4000:]
            )
