"""Benchmark of what a network costs a container: ``run --rm busybox true``
on the default network against ``--network none``, for Servin and for
podman, in one run (issue 5).

It reuses the run benchmark's tools (bench/run: the rootfs, the timed
subprocess, the wait for background work). Four tools take turns, in an
order that rotates each round: Servin and podman, each on a bridge network
and with ``--network none``, each in a store of its own. The added latency
of a network is the median on the bridge minus the median without one;
Servin's added latency over podman's is the ratio of interest.

Servin's default network is set to a bridge and /24 of the benchmark's own
(a configuration file), and podman runs on a network it creates for the
benchmark and removes after: neither touches the host's ``servin0`` or
``podman0``, whose 10.88.0.0/16 would clash with each other.

Run as root from the repository root::

    .venv/bin/python bench/network/run.py [--rounds 20] [--json FILE]

Exit status 1 when a tool is missing or a run fails, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import hashlib
import ipaddress
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "run"))

from _rootfs import build_rootfs_tar
from _settle import wait_for_background
from _tools import Podman, Servin, ToolFailed, missing_tools

from servin_core.network.masquerade import NatRule, drop_rule

__all__ = ["main"]

_MS = 1000.0


class ServinOn(Servin):
    """Servin on its default network (set by ``config``) or with none."""

    def __init__(
        self, directory: Path, tarball: Path, config: Path, *, network: bool
    ) -> None:
        self.name = "servin-net" if network else "servin-none"
        self._config = config
        self._network = network
        directory.mkdir()
        super().__init__(directory, tarball)

    def base(self) -> list[str]:
        return [*super().base(), "--config", str(self._config)]

    def run_flags(self) -> list[str]:
        return [] if self._network else ["--network", "none"]


class PodmanOn(Podman):
    """podman on the benchmark's bridge network or with none."""

    def __init__(self, directory: Path, tarball: Path, network: str | None) -> None:
        self.name = "podman-net" if network else "podman-none"
        self._network = network
        directory.mkdir()
        super().__init__(directory, tarball)

    def run_flags(self) -> list[str]:
        flags = super().run_flags()
        at = flags.index("--network")
        flags[at + 1] = self._network or "none"
        return flags


def _free_subnet(also_taken: str = "") -> str:
    """A /24 no route of the host's (nor ``also_taken``) overlaps, from
    10.192.0.0/10."""
    routes = subprocess.run(
        ["ip", "-4", "route", "show"], capture_output=True, text=True, check=True
    ).stdout.split()
    taken = [ipaddress.ip_network(also_taken)] if also_taken else []
    for word in routes:
        try:
            taken.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            continue
    pool = list(ipaddress.ip_network("10.192.0.0/10").subnets(new_prefix=24))
    start = os.getpid() % len(pool)
    for step in range(len(pool)):
        candidate = pool[(start + step * 7919) % len(pool)]
        if not any(candidate.overlaps(t) for t in taken):
            return str(candidate)
    raise ToolFailed("no free /24 for the benchmark's networks")


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time `run --rm busybox true` on a bridge network and with"
        " --network none, with Servin and podman."
    )
    parser.add_argument("--rounds", type=int, default=20, help="runs per tool")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write figures")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/var/tmp"),
        help="where the temporary stores go (not a tmpfs)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    missing = missing_tools()
    if missing or os.geteuid() != 0:
        print(
            f"cannot benchmark: missing {', '.join(missing) or 'root'}", file=sys.stderr
        )
        return 1

    workdir = Path(tempfile.mkdtemp(prefix="servin-bench-net-", dir=args.workdir))
    key = hashlib.sha256(str(workdir).encode()).hexdigest()[:6]
    bridge, podman_net = f"svbench{key}", f"servin-bench-{key}"
    tools: list[Any] = []
    servin_subnet = ""
    try:
        servin_subnet = _free_subnet()
        config = workdir / "servin.toml"
        config.write_text(
            f'default_bridge = "{bridge}"\ndefault_network_subnet = "{servin_subnet}"\n'
        )
        podman_subnet = _free_subnet(also_taken=servin_subnet)
        tarball = build_rootfs_tar(workdir / "busybox.tar")
        print("importing busybox into two Servin stores and two podman stores")
        tools.append(ServinOn(workdir / "s-net", tarball, config, network=True))
        tools.append(ServinOn(workdir / "s-none", tarball, config, network=False))
        tools.append(PodmanOn(workdir / "p-net", tarball, podman_net))
        subprocess.run(
            [*tools[-1].base(), "network", "create", "--subnet", podman_subnet,
             podman_net],
            check=True, capture_output=True,
        )  # fmt: skip
        tools.append(PodmanOn(workdir / "p-none", tarball, None))
        seconds, background = _rounds(tools, args.rounds)
    except ToolFailed as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmark interrupted", file=sys.stderr)
        return 130
    finally:
        if tools[2:]:
            subprocess.run(
                [*tools[2].base(), "network", "rm", "-f", podman_net],
                capture_output=True,
            )
        for tool in reversed(tools):
            tool.close()
        subprocess.run(["ip", "link", "del", bridge], capture_output=True)
        if servin_subnet:
            drop_rule("servin", NatRule(bridge, servin_subnet))
        shutil.rmtree(workdir, ignore_errors=True)

    summary = summarize(seconds, background)
    print()
    print(format_report(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def _rounds(
    tools: list[Any], rounds: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Each tool's times, and how long its background work went on after."""
    for tool in tools:  # untimed: page cache, bytecode, podman's first run
        tool.run_once()
        wait_for_background(tool.marker)
    seconds: dict[str, list[float]] = {tool.name: [] for tool in tools}
    background: dict[str, list[float]] = {tool.name: [] for tool in tools}
    for number in range(rounds):
        shift = number % len(tools)
        timings = []
        for tool in tools[shift:] + tools[:shift]:
            took = tool.run_once()
            seconds[tool.name].append(took)
            background[tool.name].append(wait_for_background(tool.marker))
            timings.append(f"{tool.name} {took * _MS:.0f}ms")
        print(f"round {number + 1}/{rounds}: {', '.join(timings)}", flush=True)
    return seconds, background


def summarize(
    seconds: dict[str, list[float]], background: dict[str, list[float]]
) -> dict[str, Any]:
    medians = {name: statistics.median(runs) for name, runs in seconds.items()}
    added = {
        "servin": medians["servin-net"] - medians["servin-none"],
        "podman": medians["podman-net"] - medians["podman-none"],
    }
    return {
        "command": "run --rm busybox true",
        "rounds": len(seconds["servin-net"]),
        "tools": {
            name: {
                "seconds": runs,
                "median": medians[name],
                "min": min(runs),
                "max": max(runs),
                "background_median": statistics.median(background[name]),
            }
            for name, runs in seconds.items()
        },
        "added_seconds": added,
        "ratios": {
            "servin-net/servin-none": medians["servin-net"] / medians["servin-none"],
            "podman-net/podman-none": medians["podman-net"] / medians["podman-none"],
            "servin-added/podman-added": added["servin"] / added["podman"]
            if added["podman"] > 0
            else None,
            "servin-net/podman-net": medians["servin-net"] / medians["podman-net"],
        },
    }


def format_report(summary: dict[str, Any]) -> str:
    lines = [
        f"{summary['rounds']} rounds per tool, interleaved: {summary['command']}",
        "net: Servin's default network (its own bridge and /24), podman on a"
        " bridge network made for the run; none: --network none",
        "",
        f"{'tool':<12} {'median':>10} {'min':>10} {'max':>10} {'background':>12}",
    ]
    for name, entry in summary["tools"].items():
        lines.append(
            f"{name:<12} {entry['median'] * _MS:>8.1f}ms {entry['min'] * _MS:>8.1f}ms"
            f" {entry['max'] * _MS:>8.1f}ms {entry['background_median'] * _MS:>10.1f}ms"
        )
    lines.append("")
    for tool, extra in summary["added_seconds"].items():
        lines.append(f"{tool}: a network adds {extra * _MS:.1f}ms")
    for name, ratio in summary["ratios"].items():
        shown = "n/a" if ratio is None else f"{ratio:.2f}x"
        lines.append(f"{name} {shown}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
