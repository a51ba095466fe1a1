"""Benchmark of a pod's start and teardown through the CRI: Servin's headless
daemon against Debian's containerd with its CRI plugin (issue 6).

The same gRPC client (the project's generated stubs) drives both daemons,
each started here with a directory and configuration of its own, both
pulling one busybox image from a loopback registry and putting their pods
on one CNI bridge network of the bench's. Pods are started one of each
runtime in turn (which goes first alternates), timed call by call; with all
of them running each daemon's memory is read; then they are torn down, in
turn too. The goal: Servin's pod start no slower than containerd's.

Run as root from the repository root::

    .venv/bin/python bench/cri/run.py [--pods 20] [--json FILE]

Exit status 1 when a tool is missing or a step fails, 130 on Ctrl-C; the
pods, daemons, mounts, bridge and registry are removed in every case.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "run"))

import grpc
from _daemons import Containerd, Daemon, ServinDaemon
from _figures import Measured, format_report, summarize
from _handlers import handler_medians
from _pods import PodRunner, remove_every_pod
from _settle import processes_with
from _setup import (
    CNI_BIN_DIR,
    build_rootfs_tar,
    free_subnet,
    publish_image,
    remove_bridge,
    start_registry,
    write_network,
)
from _tools import servin_cli, unmount_under

__all__ = ["main"]

_MS = 1000.0
_NEEDED = ("containerd", "containerd-shim-runc-v2", "runc", "conmon")
NOTES = [
    "network: both on the bench's CNI bridge (Debian's bridge and host-local"
    " plugins, a /24 of its own); runtime runc, cgroupfs, no seccomp profile"
    " asked; containerd's sandbox image is the same busybox, sleeping",
    "memory: RSS of the daemon and its descendants + of its helpers"
    " (conmon / containerd-shim processes); pods' own processes not counted",
]


def missing_tools() -> list[str]:
    """The programs and plugins the benchmark needs and cannot find."""
    missing = [name for name in _NEEDED if shutil.which(name) is None]
    missing += [
        str(CNI_BIN_DIR / plugin)
        for plugin in ("bridge", "host-local", "loopback")
        if not (CNI_BIN_DIR / plugin).exists()
    ]
    if not Path("/usr/bin/docker-registry").exists():
        missing.append("docker-registry")
    if not servin_cli().exists():
        missing.append(str(servin_cli()))
    return missing


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time pod start and teardown through the CRI with Servin"
        " and containerd, and read each daemon's memory."
    )
    parser.add_argument("--pods", type=int, default=20, help="pods per runtime")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write figures")
    parser.add_argument(
        "--servin-log",
        type=Path,
        metavar="FILE",
        help="keep Servin's daemon log (debug level: each CRI call's duration)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/var/tmp"),
        help="where the daemons' directories go (not a tmpfs; a short path:"
        " unix sockets are made under it)",
    )
    args = parser.parse_args(argv)
    if args.pods < 1:
        parser.error("--pods must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    missing = missing_tools()
    if missing:
        print(f"cannot benchmark: missing {', '.join(missing)}", file=sys.stderr)
        print(
            "(Debian packages: containerd runc conmon containernetworking-plugins"
            " docker-registry)",
            file=sys.stderr,
        )
        return 1
    if os.geteuid() != 0:
        print("cannot benchmark: the daemons run here as root", file=sys.stderr)
        return 1

    workdir = Path(tempfile.mkdtemp(prefix="sbcri-", dir=args.workdir))
    key = hashlib.sha256(str(workdir).encode()).hexdigest()[:6]
    bridge = f"svbcri{key}"
    daemons: list[Daemon] = []
    registry: Any = None
    try:
        tarball = build_rootfs_tar(workdir / "busybox.tar")
        registry = start_registry(workdir / "registry")
        print(f"pushing the busybox image to the registry on {registry.host}")
        image = publish_image(workdir / "seed", tarball, registry.host)
        subnet = free_subnet()
        cni_dir = workdir / "net.d"
        write_network(cni_dir, f"servin-bench-cri-{key}", bridge, subnet)
        config = workdir / "servin.toml"
        config.write_text(f'cni_conf_dir = "{cni_dir}"\n')

        print(f"starting Servin and containerd; pods on {bridge} ({subnet})")
        daemons.append(ServinDaemon(workdir / "servin", config))
        containerd = Containerd(workdir / "containerd", image, registry.host, cni_dir)
        daemons.append(containerd)
        for daemon in daemons:
            daemon.start()
        runners = [
            PodRunner(d, image, workdir / "logs" / d.name, subnet) for d in daemons
        ]
        measured = _measure(runners, args.pods)
        handlers = handler_medians(daemons[0].log, args.pods)
    except (RuntimeError, OSError, grpc.RpcError, subprocess.SubprocessError) as e:
        print(f"benchmark failed: {_describe(e)}", file=sys.stderr)
        for daemon in daemons:
            print(f"--- end of {daemon.name}'s log:\n{daemon.tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmark interrupted; removing its pods", file=sys.stderr)
        return 130
    finally:
        if args.servin_log and daemons:
            _copy_quietly(daemons[0].log, args.servin_log)
        _clean_up(daemons, registry, bridge, workdir)

    summary = summarize(measured, NOTES)
    summary["network"] = {"bridge": bridge, "subnet": subnet}
    summary["runtimes"]["servin"]["handlers"] = handlers
    print()
    print(format_report(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def _copy_quietly(source: Path, target: Path) -> None:
    try:
        shutil.copyfile(source, target)
    except OSError as e:
        print(f"cannot keep {source}: {e}", file=sys.stderr)


def _describe(error: BaseException) -> str:
    if isinstance(error, grpc.RpcError):
        failed: Any = error  # a grpc.Call too, which the stubs do not say
        return f"{getattr(failed.code(), 'name', '?')}: {failed.details()}"
    return str(error)


def _measure(runners: list[PodRunner], count: int) -> dict[str, Measured]:
    """Pull, one untimed pod each, memory idle, ``count`` pods each timed,
    memory with them running, then their teardown timed."""
    measured = {runner.daemon.name: Measured() for runner in runners}
    for runner in runners:
        runner.pull()
    # Untimed: the first pod brings binaries and plugins into the page
    # cache, makes the bridge, and checks both runtimes' pods join it.
    for runner in runners:
        pod, _ = runner.start("warm-up")
        runner.check_network(pod)
        runner.teardown(pod)
    for runner in runners:
        measured[runner.daemon.name].memory["idle"] = runner.daemon.memory()

    live: dict[str, list[str]] = {runner.daemon.name: [] for runner in runners}
    for number in range(count):
        timings = []
        for runner in runners if number % 2 == 0 else runners[::-1]:
            name = runner.daemon.name
            pod, took = runner.start(f"pod-{number}")
            live[name].append(pod)
            timings.append(f"{name} {measured[name].started(took) * _MS:.0f}ms")
        print(f"start {number + 1}/{count}: {', '.join(timings)}", flush=True)

    for runner in runners:
        for pod in live[runner.daemon.name]:
            runner.check_network(pod)
        moment = f"{count} pods"
        measured[runner.daemon.name].memory[moment] = runner.daemon.memory()

    for number in range(count):
        timings = []
        for runner in runners if number % 2 == 0 else runners[::-1]:
            name = runner.daemon.name
            took = runner.teardown(live[name][number])
            timings.append(f"{name} {measured[name].torn_down(took) * _MS:.0f}ms")
        print(f"teardown {number + 1}/{count}: {', '.join(timings)}", flush=True)
    return measured


def _clean_up(daemons: list[Daemon], registry: Any, bridge: str, workdir: Path) -> None:
    """Pods, daemons, leftovers, mounts, bridge, registry, files: in that
    order, each step tried even if one before failed. A second Ctrl-C
    cannot cut it short."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for daemon in daemons:
            try:
                remove_every_pod(daemon)
            except grpc.RpcError as e:
                why = _describe(e)
                print(f"{daemon.name}: pods not removed: {why}", file=sys.stderr)
        for daemon in daemons:
            daemon.stop()
        _force_leftovers(workdir)
        unmount_under(workdir)
        remove_bridge(bridge)
        if registry is not None:
            registry.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    finally:
        signal.signal(signal.SIGINT, previous)


def _force_leftovers(workdir: Path) -> None:
    """What a daemon that could not remove its pods left: containers in
    either runc state directory, then conmon and shim processes."""
    roots = [workdir / "servin/run/runtime/runc", workdir / "containerd/runc/k8s.io"]
    for root in roots:
        if not root.is_dir():
            continue
        listed = subprocess.run(
            ["runc", "--root", str(root), "list", "-q"], capture_output=True, text=True
        )
        for ident in listed.stdout.split():
            subprocess.run(
                ["runc", "--root", str(root), "delete", "--force", ident],
                capture_output=True,
            )
    for pid in processes_with(str(workdir)):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


if __name__ == "__main__":
    sys.exit(main())
