"""Engine API benchmark (issue 7): the same docker CLI against Servin's
headless daemon and against ``podman system service``.

1. ``docker run --rm --network none busybox true``, timed end to end,
   rounds interleaved between the two servers; the median of each.
2. ``GET /containers/json?all=1`` with 100 containers in each store: requests
   per second, one client on one kept-alive connection.

Each server has a store of its own under a temporary directory, removed
afterwards with everything in it (also after a failure or Ctrl-C).

    .venv/bin/python bench/api/run.py [--rounds 10] [--containers 100]
        [--requests 300] [--json FILE] [--workdir /var/tmp]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "run"))

from _rootfs import IMAGE, build_rootfs_tar  # noqa: E402
from _tools import _ulimits, servin_cli, unmount_under  # noqa: E402

DOCKER = shutil.which("docker") or "/usr/local/bin/docker"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: Path) -> None:
        super().__init__("localhost", timeout=120)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(120)
        self.sock.connect(str(self._path))


def _wait_for(path: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log.read_text()}")
        if path.exists():
            with contextlib.suppress(OSError):
                connection = _UnixConnection(path)
                connection.request("GET", "/_ping")
                if connection.getresponse().status == 200:
                    return
        time.sleep(0.05)
    raise SystemExit(f"the server did not answer on {path}:\n{log.read_text()}")


def _scratch(directory: Path) -> Path:
    """A short directory of this run's own, for sockets and run roots."""
    base = "/run" if os.access("/run", os.W_OK) else tempfile.gettempdir()
    key = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
    return Path(base) / f"servin-apibench-{key}"


class Server:
    name = ""
    socket: Path
    process: subprocess.Popen[bytes] | None = None

    run_flags: tuple[str, ...] = ("--network", "none")

    def docker(self, *args: str) -> tuple[float, str]:
        """Run the docker CLI against this server: its wall-clock seconds
        and output; SystemExit if it fails."""
        seconds, out, error = self.try_docker(*args)
        if error:
            raise SystemExit(f"{self.name}: docker {args}: {error}")
        return seconds, out

    def try_docker(self, *args: str) -> tuple[float, str, str]:
        """Seconds, output, and the error ("" if it succeeded)."""
        env = dict(os.environ, DOCKER_HOST=f"unix://{self.socket}")
        start = time.perf_counter()
        done = subprocess.run([DOCKER, *args], env=env, capture_output=True)
        elapsed = time.perf_counter() - start
        error = done.stderr.decode().strip() or "failed" if done.returncode else ""
        return elapsed, done.stdout.decode(), error

    def run_rm(self) -> tuple[float, str]:
        """``docker run --rm busybox true``: seconds, or the error."""
        seconds, _, error = self.try_docker(
            "run", "--rm", *self.run_flags, IMAGE, "true"
        )
        return seconds, error

    def run_detached(self) -> float:
        """The same container's life without attaching: run -d, wait, rm."""
        first, out = self.docker("run", "-d", *self.run_flags, IMAGE, "true")
        ident = out.strip()
        second, _ = self.docker("wait", ident)
        third, _ = self.docker("rm", ident)
        return first + second + third

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Servin(Server):
    name = "servin"

    def __init__(self, directory: Path, tarball: Path) -> None:
        # A short root: the socket's path must fit in 107 bytes.
        self.root = _scratch(directory) / "servin"
        config = directory / "servin.toml"
        # A bridge of its own: the host's servin0 is left alone.
        key = hashlib.sha256(str(directory).encode()).hexdigest()[:8]
        config.write_text(f'default_bridge = "svb{key}"\n')
        base = [str(servin_cli()), "--root", str(self.root), "--config", str(config)]
        subprocess.run([*base, "import", str(tarball), IMAGE], check=True,
                       capture_output=True)  # fmt: skip
        self.socket = self.root / "run" / "servin.sock"
        self.log = directory / "servin.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*base, "--headless", "--log-level", "warning"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        _wait_for(self.socket, self.process, self.log)


class Podman(Server):
    name = "podman"

    def __init__(self, directory: Path, tarball: Path) -> None:
        # runc cannot raise the limits podman would otherwise ask for (see
        # bench/run/_tools.py); Servin's defaults are the caller's own.
        self.run_flags = ("--network", "none", *_ulimits())
        self.root = directory / "podman"
        # podman refuses a run root path longer than 50 characters.
        self.scratch = _scratch(directory) / "podman"
        self.base = [
            "podman",
            *("--root", str(self.root)),
            *("--runroot", str(self.scratch / "run")),
            *("--tmpdir", str(self.scratch / "tmp")),
            *("--storage-driver", "overlay"),
            *("--runtime", "runc"),
            *("--cgroup-manager", "cgroupfs"),
            *("--events-backend", "file"),
        ]
        subprocess.run([*self.base, "import", str(tarball), IMAGE], check=True,
                       capture_output=True)  # fmt: skip
        self.socket = self.scratch / "podman.sock"
        self.log = directory / "podman.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [*self.base, "system", "service", "--time=0", f"unix://{self.socket}"],
                stdout=log, stderr=log, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        _wait_for(self.socket, self.process, self.log)

    def close(self) -> None:
        for path in (self.root, self.scratch):
            unmount_under(path)
            shutil.rmtree(path, ignore_errors=True)


def requests_per_second(server: Server, count: int) -> float:
    connection = _UnixConnection(server.socket)
    connection.request("GET", "/v1.41/containers/json?all=1")
    first = connection.getresponse().read()
    start = time.perf_counter()
    for _ in range(count):
        connection.request("GET", "/v1.41/containers/json?all=1")
        body = connection.getresponse().read()
    elapsed = time.perf_counter() - start
    connection.close()
    assert len(json.loads(body)) == len(json.loads(first))
    return count / elapsed


def _remove_all(server: Server) -> None:
    env = dict(os.environ, DOCKER_HOST=f"unix://{server.socket}")
    listed = subprocess.run([DOCKER, "ps", "-aq"], env=env, capture_output=True)
    ids = listed.stdout.decode().split()
    if ids:
        subprocess.run([DOCKER, "rm", "-f", *ids], env=env, capture_output=True)


@contextlib.contextmanager
def servers(directory: Path, tarball: Path) -> Iterator[tuple[Servin, Podman]]:
    servin: Servin | None = None
    podman: Podman | None = None
    try:
        servin = Servin(directory, tarball)
        podman = Podman(directory, tarball)
        yield servin, podman
    finally:
        for server in (servin, podman):
            if server is not None and server.process is not None:
                _remove_all(server)
                server.stop()
        if podman is not None:
            podman.close()
        scratch = _scratch(directory)
        unmount_under(scratch)
        shutil.rmtree(scratch, ignore_errors=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def report(
    figures: dict[str, dict[str, float]],
    errors: dict[str, str],
    rounds: int,
    containers: int,
) -> list[str]:
    """The figures side by side, each with its servin/podman ratio."""
    servin, podman = figures["servin"], figures["podman"]
    lines = []
    key = "run_rm_median_s"
    if errors:
        for name, shown in figures.items():
            what = f"fails: {errors[name]}" if name in errors else _ms(shown[key])
            lines.append(f"docker run --rm busybox true: {name} {what}")
    else:
        lines.append(
            f"docker run --rm busybox true: servin {_ms(servin[key])},"
            f" podman {_ms(podman[key])} (medians of {rounds});"
            f" servin/podman {servin[key] / podman[key]:.2f}x (lower is faster)"
        )
    key = "run_wait_rm_median_s"
    lines.append(
        f"docker run -d + wait + rm: servin {_ms(servin[key])},"
        f" podman {_ms(podman[key])} (medians of {rounds});"
        f" servin/podman {servin[key] / podman[key]:.2f}x (lower is faster)"
    )
    key = "list_requests_per_s"
    lines.append(
        f"GET /containers/json with {containers} containers:"
        f" servin {servin[key]:.0f} req/s, podman {podman[key]:.0f} req/s;"
        f" servin/podman {servin[key] / podman[key]:.2f}x (higher is faster)"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--containers", type=int, default=100)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    missing = [n for n in ("podman", "runc", "conmon") if not shutil.which(n)]
    if missing or not Path(DOCKER).exists():
        print(f"missing: {', '.join(missing or ['docker'])}", file=sys.stderr)
        return 1

    directory = Path(tempfile.mkdtemp(prefix="servin-apibench-", dir=args.workdir))
    figures: dict[str, dict[str, float]] = {}
    errors: dict[str, str] = {}
    try:
        tarball = build_rootfs_tar(directory / "busybox.tar")
        with servers(directory, tarball) as pair:
            for server in pair:
                server.run_rm()  # warm: caches, first-run set-up
                server.run_detached()
            rm_times: dict[str, list[float]] = {s.name: [] for s in pair}
            detached: dict[str, list[float]] = {s.name: [] for s in pair}
            for _ in range(args.rounds):
                for server in pair:
                    seconds, error = server.run_rm()
                    if error:
                        errors[server.name] = error.splitlines()[-1]
                    else:
                        rm_times[server.name].append(seconds)
                    detached[server.name].append(server.run_detached())
            for server in pair:
                for _ in range(args.containers):
                    server.docker("create", *server.run_flags, IMAGE, "true")
                rate = requests_per_second(server, args.requests)
                figures[server.name] = {
                    "run_rm_median_s": statistics.median(rm_times[server.name])
                    if rm_times[server.name]
                    else -1.0,
                    "run_wait_rm_median_s": statistics.median(detached[server.name]),
                    "list_requests_per_s": rate,
                }
    except KeyboardInterrupt:
        return 130
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    for line in report(figures, errors, args.rounds, args.containers):
        print(line)
    if args.json:
        args.json.write_text(
            json.dumps({"figures": figures, "errors": errors}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
