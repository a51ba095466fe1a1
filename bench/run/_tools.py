"""Servin's CLI and podman, each with an image store of its own.

Both import the same busybox tarball once, before the rounds, and then run
``run --rm busybox true`` from that store, timed around the one subprocess,
start-up included: what a user waits for at the prompt.

podman is configured for this host as Servin is: runc (crun refuses hybrid
cgroups), cgroupfs (no systemd), a file for events (no journal), the
caller's rlimits (no CAP_SYS_RESOURCE to raise them). Both run with
``--network none``: this benchmark times the container's life, and
bench/network times what joining a network adds.
"""

from __future__ import annotations

import hashlib
import os
import resource
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _rootfs import IMAGE

__all__ = [
    "Podman",
    "Servin",
    "ToolFailed",
    "missing_tools",
    "servin_cli",
    "timed",
    "tool_environment",
    "unmount_under",
    "wait_exact",
]

_TIMEOUT = 120


class ToolFailed(Exception):
    """A tool exited non-zero; the message holds the end of its output."""


def servin_cli() -> Path:
    """The CLI installed beside the interpreter running the benchmark."""
    return Path(sys.executable).parent / "servin-tui"


def missing_tools() -> list[str]:
    """The external programs the benchmark needs and cannot find."""
    missing = [
        name for name in ("podman", "runc", "conmon") if shutil.which(name) is None
    ]
    if not servin_cli().exists():
        missing.append(str(servin_cli()))
    return missing


def tool_environment() -> dict[str, str]:
    """The environment every tool runs in: the caller's, except that Python
    may cache bytecode. An installed Servin has its modules compiled; with
    PYTHONDONTWRITEBYTECODE set (as in some shells and CI jobs), every
    module changed since its last compile would be compiled anew in every
    run, and the benchmark would time the compiler."""
    environment = dict(os.environ)
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    return environment


def wait_exact(process: subprocess.Popen[bytes]) -> None:
    """Wait for ``process`` on a pidfd, readable the moment it exits.
    ``Popen.wait`` with a timeout sleeps in steps of up to 50 ms between
    looks, which rounded every figure up to the next step."""
    pidfd = os.pidfd_open(process.pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], _TIMEOUT)
    finally:
        os.close(pidfd)
    if not ready:
        process.kill()
        process.wait()
        raise subprocess.TimeoutExpired(process.args, _TIMEOUT)
    process.wait()


def timed(name: str, command: list[str], log: Path) -> float:
    """Run ``command`` and return its wall-clock seconds; ToolFailed if it
    exits non-zero. Output goes to ``log``, read only on failure."""
    environment = tool_environment()
    with log.open("wb") as output:
        start = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
        )
        wait_exact(process)
        seconds = time.perf_counter() - start
    if process.returncode != 0:
        text = log.read_text(errors="replace")[-4000:]
        raise ToolFailed(f"{name} exited with {process.returncode}:\n{text}")
    return seconds


class Servin:
    """``servin-tui --root DIR``, as users run it."""

    name = "servin"

    def __init__(self, directory: Path, tarball: Path) -> None:
        self.root = directory / "servin"
        self.marker = str(self.root)
        self._log = directory / "servin.log"
        timed(self.name, [*self.base(), "import", str(tarball), IMAGE], self._log)

    def command(self) -> list[str]:
        return [*self.base(), "run", "--rm", *self.run_flags(), IMAGE, "true"]

    def run_flags(self) -> list[str]:
        """What ``run`` is told besides the image and command."""
        return ["--network", "none"]

    def run_once(self) -> float:
        return timed(self.name, self.command(), self._log)

    def spec_of_run(self, directory: Path) -> Path:
        """A copy (under ``directory``) of the config.json that Servin
        writes for ``run``'s container, and the files it mounts."""
        name = "servin-bench-spec"
        run = [*self.base(), "run", "--name", name, *self.run_flags(), IMAGE, "true"]
        timed(self.name, run, self._log)
        ident = subprocess.run(
            [*self.base(), "inspect", "--format", "{{.Id}}", name],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        # The spec and the files it mounts (hosts, resolv.conf...): the
        # directory's regular files; its fifos and mounts stay behind.
        copy = directory / "servin-spec"
        copy.mkdir()
        for entry in (self.root / "containers" / ident).iterdir():
            if entry.is_file() and not entry.is_symlink():
                shutil.copyfile(entry, copy / entry.name)
        timed(self.name, [*self.base(), "rm", name], self._log)
        return copy / "config.json"

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def base(self) -> list[str]:
        """The CLI with this store, before the command."""
        return [str(servin_cli()), "--root", str(self.root)]


class Podman:
    """Debian's podman with its own root, run root and temporary directory."""

    name = "podman"

    def __init__(self, directory: Path, tarball: Path) -> None:
        self.root = directory / "podman"
        self.marker = str(self.root)
        # podman refuses a run root path longer than 50 characters.
        base = "/run" if os.access("/run", os.W_OK) else tempfile.gettempdir()
        key = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
        self.scratch = Path(base) / f"servin-bench-{key}"
        self._log = directory / "podman.log"
        timed(self.name, [*self.base(), "import", str(tarball), IMAGE], self._log)

    def command(self) -> list[str]:
        return [*self.base(), "run", "--rm", *self.run_flags(), IMAGE, "true"]

    def run_flags(self) -> list[str]:
        """What ``run`` is told besides the image and command."""
        return ["--network", "none", *_ulimits()]

    def run_once(self) -> float:
        return timed(self.name, self.command(), self._log)

    def close(self) -> None:
        # podman leaves its overlay store mounted; unmount before removing.
        # (Not ``podman system reset``: as root it also removes the host's
        # network definitions.)
        for path in (self.root, self.scratch):
            unmount_under(path)
            shutil.rmtree(path, ignore_errors=True)

    def base(self) -> list[str]:
        """podman with this store and host's settings, before the command."""
        return [
            "podman",
            *("--root", str(self.root)),
            *("--runroot", str(self.scratch / "run")),
            *("--tmpdir", str(self.scratch / "tmp")),
            *("--storage-driver", "overlay"),
            *("--runtime", "runc"),
            *("--cgroup-manager", "cgroupfs"),
            *("--events-backend", "file"),
        ]


def _ulimits() -> list[str]:
    """The caller's open files and processes, as Servin's defaults.

    podman lowers its own process limit to the kernel's pid_max when it
    starts (seen with podman 4.3), and runc cannot raise a container's limit
    above the one it inherits, so the process limit is capped there.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    flags = ["--ulimit", f"nofile={_limit(soft)}:{_limit(hard)}"]

    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    soft, hard = (pid_max if v < 0 else min(v, pid_max) for v in (soft, hard))
    flags += ["--ulimit", f"nproc={soft}:{hard}"]
    return flags


def _limit(value: int) -> str:
    return "-1" if value == resource.RLIM_INFINITY else str(value)


def unmount_under(root: Path) -> None:
    """Detach every mount at or below ``root``, deepest first."""
    prefix = str(root.resolve())
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            # Field 5 is the mount point, with spaces and the like as \\ooo.
            point = line.split()[4].encode().decode("unicode_escape")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], capture_output=True)
