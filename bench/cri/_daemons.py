"""The two CRI daemons, each started by the bench with a directory of its own.

Servin: ``servin-tui --root DIR --config FILE --headless``, serving the CRI
on ``DIR/run/cri.sock``; the configuration points its CRI at the bench's
CNI directory. containerd: Debian's, with a configuration written here
(its own root, state, socket and options for this host: runc, cgroupfs,
no AppArmor profile, OOM score kept at its own since root here lacks
CAP_SYS_RESOURCE, the stand-in sandbox image, the loopback registry as
plain HTTP, the bench's CNI directory and Debian's plugins).

Both are started in a session of their own, so a Ctrl-C at the terminal
reaches only the bench, which then removes the pods through the daemons
before it stops them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc

from servin_cri.pb import api_pb2 as pb
from servin_cri.pb import api_pb2_grpc

__all__ = ["Containerd", "Daemon", "ServinDaemon", "memory_kib"]

_STARTUP = 60.0
_STOP = 30.0
_WORKLOAD = b"sleep"
"""The command name of every pod's process (busybox's applet)."""


class Daemon:
    """One CRI daemon process and a client of its socket."""

    name = ""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.log = directory.with_suffix(".log")
        self.socket = directory / "unset.sock"
        self.process: subprocess.Popen[bytes] | None = None
        self.channel: grpc.Channel | None = None
        self.runtime: api_pb2_grpc.RuntimeServiceStub | None = None
        self.images: api_pb2_grpc.ImageServiceStub | None = None

    @property
    def marker(self) -> str:
        """What the command lines of its helpers (conmon, shims) contain."""
        return f"{self.directory}/"

    def argv(self) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        """Start the daemon and wait until its CRI answers Version."""
        self.directory.mkdir(parents=True)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + _STARTUP
        while not self.socket.exists():
            self._check_alive()
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} made no socket: {self.tail()}")
            time.sleep(0.05)
        self.channel = grpc.insecure_channel(f"unix:{self.socket}")
        stubs: Any = api_pb2_grpc  # generated without annotations
        self.runtime = stubs.RuntimeServiceStub(self.channel)
        self.images = stubs.ImageServiceStub(self.channel)
        grpc.channel_ready_future(self.channel).result(timeout=_STARTUP)
        self.runtime.Version(pb.VersionRequest(version="v1"), timeout=_STARTUP)

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited: {self.tail()}")

    def tail(self) -> str:
        """The end of the daemon's log, for an error message."""
        try:
            return self.log.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not go; closes the client."""
        if self.channel is not None:
            self.channel.close()
            self.channel = None
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=_STOP)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def memory(self) -> tuple[int, int]:
        """RSS in KiB of the daemon with its descendants, and of its helpers
        elsewhere in the process tree (conmon, shims: processes naming its
        directory); the pods' own processes are in neither."""
        assert self.process is not None
        return memory_kib(self.process.pid, self.marker)


class ServinDaemon(Daemon):
    """``servin-tui --headless`` with a root of its own. At debug level its
    CRI layer logs each call's duration, read when profiling."""

    name = "servin"

    def __init__(self, directory: Path, config: Path) -> None:
        super().__init__(directory)
        self.config = config
        self.socket = directory / "run" / "cri.sock"

    def argv(self) -> list[str]:
        cli = Path(sys.executable).parent / "servin-tui"
        return [
            str(cli),
            *("--root", str(self.directory)),
            *("--config", str(self.config)),
            "--headless",
            *("--log-level", "debug"),
        ]


class Containerd(Daemon):
    """Debian's containerd with a configuration of the bench's."""

    name = "containerd"

    def __init__(
        self, directory: Path, sandbox_image: str, registry: str, cni_dir: Path
    ) -> None:
        super().__init__(directory)
        self.socket = directory / "containerd.sock"
        self.config = directory.with_name("containerd.toml")
        self.config.write_text(
            _containerd_config(directory, sandbox_image, registry, cni_dir)
        )

    def argv(self) -> list[str]:
        return ["containerd", "--config", str(self.config)]


def _containerd_config(
    directory: Path, sandbox_image: str, registry: str, cni_dir: Path
) -> str:
    cri = '[plugins."io.containerd.grpc.v1.cri"]'
    runc = f"{cri[:-1]}.containerd.runtimes.runc]"
    return f"""version = 2
root = "{directory}/root"
state = "{directory}/state"

[grpc]
  address = "{directory}/containerd.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "{directory}/opt"

{cri}
  sandbox_image = "{sandbox_image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  restrict_oom_score_adj = true

{cri[:-1]}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

{runc}
  runtime_type = "io.containerd.runc.v2"

{runc[:-1]}.options]
  BinaryName = "/usr/sbin/runc"
  Root = "{directory}/runc"
  SystemdCgroup = false

{cri[:-1]}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "{cni_dir}"

{cri[:-1]}.registry.mirrors."{registry}"]
  endpoint = ["http://{registry}"]
"""


def memory_kib(pid: int, marker: str) -> tuple[int, int]:
    """The RSS (KiB) of ``pid`` and its descendants, and of the other
    processes whose command line contains ``marker``. Every pod's process
    runs busybox ``sleep`` (containerd's sandbox process too): those are
    the workload, counted in neither."""
    parents: dict[int, int] = {}
    named: set[int] = set()
    workload: set[int] = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        number = int(entry.name)
        try:
            with open(f"/proc/{number}/stat", "rb") as stat:
                # The parent is the second field after the parenthesised name.
                parents[number] = int(stat.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{number}/cmdline", "rb") as cmdline:
                if marker.encode() in cmdline.read():
                    named.add(number)
            with open(f"/proc/{number}/comm", "rb") as comm:
                if comm.read().strip() == _WORKLOAD:
                    workload.add(number)
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or a kernel thread
    tree = {pid}
    grown = True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree}
        grown = not more <= tree
        tree |= more
    helpers = named - tree - {os.getpid()}
    tree -= workload
    helpers -= workload
    return sum(_rss(p) for p in tree), sum(_rss(p) for p in helpers)


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0  # gone, or a kernel thread without memory of its own
