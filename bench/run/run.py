"""Benchmark of ``run --rm busybox true`` and ``exec ID true``: Servin
against podman and, for run, the bare OCI runtime (issue 3).

The same busybox root filesystem is imported once into Servin's store and
podman's and unpacked into a bundle for runc; a ``sleep 3600`` container is
started in each store for ``exec`` to go into. Then each round runs the
container once with every tool and execs ``true`` once with each CLI, and
the medians over the rounds are compared. The tools take turns in a
different order each round, so that machine noise and position in the round
hit all of them alike. The goals: Servin faster than podman, and within 2x
of the bare runtime.

Run as root from the repository root::

    .venv/bin/python bench/run/run.py [--rounds 20] [--json FILE]

Exit status 1 when a tool is missing or a run fails, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from _bare import RUNTIME, BareRuntime
from _exec import Exec
from _report import format_report, summarize
from _rootfs import build_rootfs_tar
from _settle import wait_for_background
from _tools import Podman, Servin, ToolFailed, missing_tools

__all__ = ["main"]

NOTES = [
    "network: Servin and podman run with --network none (bench/network times"
    " what a network adds), runc in a new network namespace with only loopback",
    "podman: --runtime runc --cgroup-manager cgroupfs --events-backend file,"
    " caller's ulimits; runc: create, start, wait for exit, delete of the"
    " config.json Servin wrote for the same container",
]


class Tool(Protocol):
    name: str
    marker: str
    """What the command lines of the tool's background processes contain."""

    def run_once(self) -> float: ...

    def close(self) -> None: ...


class _Bare:
    """The bare runtime under the same interface as the two CLIs."""

    name = RUNTIME

    def __init__(self, directory: Path, tarball: Path, spec: Path) -> None:
        self._runtime = BareRuntime(directory, tarball, spec)
        self.marker = str(self._runtime.state)

    def run_once(self) -> float:
        return self._runtime.run_once()

    def close(self) -> None:
        self._runtime.close()


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time `run --rm busybox true` with Servin, podman and runc,"
        " and `exec ID true` with Servin and podman."
    )
    parser.add_argument("--rounds", type=int, default=20, help="runs per tool")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write figures")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/var/tmp"),
        help="where the temporary stores and bundle go (not a tmpfs)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    missing = missing_tools()
    if missing:
        print(f"cannot benchmark: missing {', '.join(missing)}", file=sys.stderr)
        print("(Debian packages: podman runc conmon)", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("cannot benchmark: runc and podman run here as root", file=sys.stderr)
        return 1

    workdir = Path(tempfile.mkdtemp(prefix="servin-bench-run-", dir=args.workdir))
    tools: list[Tool] = []
    try:
        tarball = build_rootfs_tar(workdir / "busybox.tar")
        print("importing busybox into Servin and podman, making runc's bundle")
        servin = Servin(workdir, tarball)
        tools.append(servin)
        podman = Podman(workdir, tarball)
        tools.append(podman)
        tools.append(_Bare(workdir, tarball, servin.spec_of_run(workdir)))

        print("starting a container in each store for exec")
        execs = [
            Exec(servin, workdir, remove=["-f"]),
            Exec(podman, workdir, remove=["-f", "--time", "0"]),
        ]
        # Held before they start: a failed or interrupted start is removed too.
        tools += execs
        for container in execs:
            container.start()
        resident = frozenset().union(*(e.resident for e in execs))

        seconds, background = _rounds(tools, args.rounds, resident)
    except ToolFailed as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmark interrupted; removing its containers", file=sys.stderr)
        return 130
    finally:
        # Last made, first closed: the exec containers go before their stores.
        for tool in reversed(tools):
            tool.close()
        shutil.rmtree(workdir, ignore_errors=True)

    summary = summarize(seconds, background, NOTES)
    print()
    print(format_report(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def _rounds(
    tools: list[Tool], rounds: int, resident: frozenset[int]
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each tool's times in the foreground and in the background, the
    ``resident`` processes (the exec containers') not waited for."""
    # One untimed run each first: podman makes its run root and database on
    # its first run, and every tool's binaries come into the page cache.
    for tool in tools:
        tool.run_once()
        wait_for_background(tool.marker, resident)

    seconds: dict[str, list[float]] = {tool.name: [] for tool in tools}
    background: dict[str, list[float]] = {tool.name: [] for tool in tools}
    for number in range(rounds):
        shift = number % len(tools)
        timings = []
        for tool in tools[shift:] + tools[:shift]:
            took = tool.run_once()
            seconds[tool.name].append(took)
            background[tool.name].append(wait_for_background(tool.marker, resident))
            timings.append(f"{tool.name} {took * 1000:.0f}ms")
        print(f"round {number + 1}/{rounds}: {', '.join(timings)}", flush=True)
    return seconds, background


if __name__ == "__main__":
    sys.exit(main())
