"""Benchmark of the TUI with many containers (issue 4): the time from
launching the app to the first full paint of the containers panel, and from
a keypress to the repainted list, at several store sizes.

One store is grown size by size (500, 1,000, 2,000 created containers of a
busybox image by default); at each size every round launches the app once
with Textual's headless ``run_test``, waits for the first frame with all the
rows, then presses each measured key (cursor down, sort by the next column,
reverse the order, to the Images panel and back) and waits for the frame
that shows its effect. With tmux installed, each round also launches the
real ``servin-tui --root DIR`` in a detached tmux terminal and polls the
screen until the newest rows are on it. The goals, at 1,000 containers:
first paint under 1 s, key response under 100 ms.

Run from the repository root::

    .venv/bin/python bench/tui/run.py [--sizes 500,1000,2000] [--rounds 5]
        [--no-tmux] [--json FILE]

Exit status 1 when a launch fails, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from _headless import launch_once
from _report import CUT, Figures, format_report, summarize
from _store import Store, build_rootfs_tar
from _tmux import LaunchFailed, have_tmux, launch_in_tmux

__all__ = ["main"]


def _sizes(text: str) -> list[int]:
    try:
        sizes = sorted({int(part) for part in text.split(",")})
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of counts: {text}") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"counts must be at least 1: {text}")
    return sizes


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time the TUI's first paint and key response with many"
        " containers in the store."
    )
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=[500, 1000, 2000],
        help="container counts, comma-separated (default 500,1000,2000)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="launches per size")
    parser.add_argument(
        "--no-tmux", action="store_true", help="skip the real launch in tmux"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="write figures")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path("/var/tmp"),
        help="where the temporary store goes",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    tmux = not args.no_tmux and have_tmux()
    if not args.no_tmux and not tmux:
        print("tmux not found: measuring headless only", file=sys.stderr)

    workdir = Path(tempfile.mkdtemp(prefix="servin-bench-tui-", dir=args.workdir))
    try:
        store = Store(workdir / "root")
        store.import_busybox(build_rootfs_tar(workdir / "busybox.tar"))
        figures = _measure(store, args.sizes, args.rounds, tmux)
    except (LaunchFailed, TimeoutError) as e:
        print(f"benchmark failed: {e or 'timed out'}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmark interrupted", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    summary = summarize(figures)
    print()
    print(format_report(summary))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2) + "\n")
    return 0


def _measure(store: Store, sizes: list[int], rounds: int, tmux: bool) -> Figures:
    figures: Figures = {}
    for size in sizes:
        print(f"creating containers up to {size}", flush=True)
        store.grow_to(size)
        # One untimed launch: the page cache and Python's bytecode warm up.
        asyncio.run(launch_once(store.config, size))

        measures: dict[str, list[float]] = {
            "paint": [],
            "tmux": [],
            CUT: [],
        }
        for number in range(rounds):
            paint, keys = asyncio.run(launch_once(store.config, size))
            measures["paint"].append(paint)
            for label, seconds in keys.items():
                measures.setdefault(label, []).append(seconds)
            line = f"{size} containers, round {number + 1}/{rounds}: {paint:.3f} s"
            if tmux:
                real, legible = launch_in_tmux(store.root, store.short_ids)
                measures["tmux"].append(real)
                measures[CUT].append(0.0 if legible else 1.0)
                line += f", in tmux {real:.3f} s"
                line += "" if legible else " (names cut short)"
            keys_ms = ", ".join(f"{k} {s * 1000:.0f} ms" for k, s in keys.items())
            print(f"{line}; {keys_ms}", flush=True)
        figures[size] = measures
    return figures


if __name__ == "__main__":
    sys.exit(main())
