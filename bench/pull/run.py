"""Benchmark of a cold pull: Servin against podman and skopeo (issue P1).

An image of several large layers is made with Servin's import and pushed
with Servin's push to a docker-registry on loopback; then each round pulls
it once with every tool, each into a fresh store, and the medians over the
rounds are compared. The tools take turns in a different order each round,
so that machine noise and position in the round hit all of them alike.

Run from the repository root::

    .venv/bin/python bench/pull/run.py [--layers 8] [--layer-mb 40] [--rounds 5]

Exit status 1 when a tool is missing or a pull fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _image import BenchImage, build_and_push, write_layers
from _peers import PEERS, Run, ToolFailed, missing_tools, run_once
from _registry import REGISTRY_BINARY, start_registry
from _report import format_report, summarize
from _store import loop_devices_usable

from servin_core.errors import ServinError

__all__ = ["main"]


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time a cold pull with Servin, podman and skopeo."
    )
    parser.add_argument("--layers", type=int, default=8, help="layers in the image")
    parser.add_argument(
        "--layer-mb", type=int, default=40, help="uncompressed MiB per layer"
    )
    parser.add_argument("--rounds", type=int, default=5, help="pulls per tool")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write figures")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/var/tmp"),
        help="where the temporary registry and stores go (not a tmpfs)",
    )
    args = parser.parse_args(argv)
    for name in ("layers", "layer_mb", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    missing = missing_tools()
    if not Path(REGISTRY_BINARY).exists():
        missing.append(REGISTRY_BINARY)
    if missing:
        print(f"cannot benchmark: missing {', '.join(missing)}", file=sys.stderr)
        print("(Debian packages: podman skopeo docker-registry)", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("note: not root, so podman runs rootless", file=sys.stderr)
    file_system = loop_devices_usable()
    if not file_system:
        print(
            "note: stores are plain directories, not fresh file systems"
            " (those need root, losetup and mkfs.ext4)",
            file=sys.stderr,
        )

    workdir = Path(tempfile.mkdtemp(prefix="servin-bench-pull-", dir=args.workdir))
    try:
        registry = start_registry(workdir / "registry")
        try:
            image = _make_image(workdir, args.layers, args.layer_mb, registry.host)
            runs = _rounds(workdir / "stores", image, args.rounds, file_system)
        finally:
            registry.stop()
    except (ToolFailed, ServinError, RuntimeError) as e:
        print(f"benchmark failed: {e}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    stores = "a new ext4 file system" if file_system else "an empty directory"
    summary = summarize(image, args.layers, args.layer_mb, runs, stores)
    print()
    print(format_report(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def _make_image(workdir: Path, layers: int, layer_mb: int, host: str) -> BenchImage:
    print(f"making {layers} layers of {layer_mb} MiB", flush=True)
    tarballs = write_layers(workdir / "layers", layers, layer_mb)
    reference = f"{host}/bench:latest"

    print(f"importing and pushing {reference} with Servin", flush=True)
    image = asyncio.run(build_and_push(workdir / "builder", tarballs, reference))

    # Only the registry's copy is needed from now on; free the disk.
    shutil.rmtree(workdir / "layers")
    shutil.rmtree(workdir / "builder")
    return image


def _rounds(
    stores: Path, image: BenchImage, rounds: int, file_system: bool
) -> list[Run]:
    stores.mkdir()
    runs: list[Run] = []
    for number in range(rounds):
        shift = number % len(PEERS)
        order = PEERS[shift:] + PEERS[:shift]
        timings = []
        for tool in order:
            expected = image.unpacked_bytes if tool.unpacks else image.compressed_bytes
            store = stores / f"{tool.name}-{number}"
            run = run_once(
                tool, store, image.reference, expected, file_system=file_system
            )
            runs.append(run)
            timings.append(f"{run.tool} {run.seconds:.2f}s")
        print(f"round {number + 1}/{rounds}: {', '.join(timings)}", flush=True)
    return runs


if __name__ == "__main__":
    sys.exit(main())
