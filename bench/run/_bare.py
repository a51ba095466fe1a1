"""The bare OCI runtime: what running the same container costs without Servin.

A bundle holds the unpacked busybox root filesystem and the config.json that
Servin wrote for the same container (the issue's "same bundle": docker's
capabilities, seccomp profile, masked paths and mounts all cost the runtime
time), with the root filesystem, the generated /etc files and the cgroup
path moved into the bundle. A network namespace the spec joins by path
becomes a new one holding only loopback: joining a CNI network is Servin's
work, not the runtime's. One run is ``runc create``, ``runc start``, waiting
for the process to exit and ``runc delete``: the runtime's share of ``run
--rm``. The container's name and cgroup path are new in every run, so no run
finds another's leftovers.

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

    def __init__(self, directory: Path, tarball: Path, spec: Path) -> None:
        self.bundle = directory / "bundle"
        self.state = directory / "runc-state"
        self._runs = 0
        self._prefix = f"servin-bench-{os.getpid()}"

        unpack(tarball, self.bundle / "rootfs")
        self._spec = _bundle_spec(
            json.loads(spec.read_text()), spec.parent, self.bundle
        )

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


def _bundle_spec(spec: dict[str, Any], copies: Path, bundle: Path) -> dict[str, Any]:
    """Servin's ``spec`` made to run from ``bundle``; ``copies`` holds the
    files of Servin's container directory that the spec mounts."""
    container_dir = Path(spec["root"]["path"]).parent
    spec["root"] = {"path": str(bundle / "rootfs"), "readonly": False}
    for mount in spec["mounts"]:
        origin = Path(mount.get("source", ""))
        if origin.parent == container_dir:
            copy = bundle / origin.name
            shutil.copyfile(copies / origin.name, copy)
            mount["source"] = str(copy)
    for namespace in spec["linux"]["namespaces"]:
        if namespace["type"] == "network":
            namespace.pop("path", None)
    process = spec["process"]
    process["terminal"] = False
    process["args"] = ["true"]
    return spec
