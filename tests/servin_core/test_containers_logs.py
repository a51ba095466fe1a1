"""Container logs from conmon's k8s-file: streams apart, partial lines,
follow, tail, since and until, and the size limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import import_busybox, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.logs import LogLine, parse_line, read_logs
from servin_core.containers.model import config_from_data
from servin_core.containers.paths import ContainerPaths
from servin_core.core import Core

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


async def started(core: Core, script: str, **config: object) -> str:
    container = await lifecycle.create(
        core,
        config_from_data({"image": IMAGE, "cmd": ["sh", "-c", script], **config}),
    )
    await lifecycle.start(core, container.id)
    return container.id


async def collect(core: Core, ident: str, **options: object) -> list[LogLine]:
    container = core.containers.get(ident)
    lines = read_logs(core, container, **options)  # type: ignore[arg-type]
    return [line async for line in lines]


async def test_follow_sees_new_lines_in_order_with_their_streams(box: Core) -> None:
    # Each line waits for a file that the test makes once it has read the
    # line before (conmon reads the two pipes apart, so lines written at
    # once to both may be logged in either order).
    ident = await started(
        box,
        "wait_for() { while [ ! -e /tmp/$1 ]; do sleep 0.05; done; };"
        " echo one; wait_for one; echo two >&2; wait_for two; echo three",
    )
    container = box.containers.get(ident)
    rootfs = ContainerPaths.of(box.config, ident).rootfs
    seen: list[tuple[str, bytes]] = []
    async for line in read_logs(box, container, follow=True):
        seen.append((line.stream, line.data))
        (rootfs / "tmp" / line.data.decode().strip()).touch()

    assert seen == [("stdout", b"one\n"), ("stderr", b"two\n"), ("stdout", b"three\n")]


async def test_partial_lines_are_marked(box: Core) -> None:
    ident = await started(box, "printf 'no newline'")
    await lifecycle.wait(box, ident)

    lines = await collect(box, ident)

    assert [(line.data, line.partial) for line in lines] == [(b"no newline", True)]


async def test_tail_since_and_until(box: Core) -> None:
    ident = await started(box, "for i in 1 2 3 4 5; do echo $i; done")
    await lifecycle.wait(box, ident)

    everything = await collect(box, ident)
    assert [line.data for line in everything] == [
        b"1\n",
        b"2\n",
        b"3\n",
        b"4\n",
        b"5\n",
    ]
    assert [line.data for line in await collect(box, ident, tail=2)] == [
        b"4\n",
        b"5\n",
    ]
    third = everything[2].time.timestamp()
    assert [line.data for line in await collect(box, ident, since=third)] == [
        line.data for line in everything if line.time.timestamp() >= third
    ]
    assert [line.data for line in await collect(box, ident, until=third)] == [
        line.data for line in everything if line.time.timestamp() <= third
    ]
    assert await collect(box, ident, since=everything[-1].time.timestamp() + 1) == []


async def test_the_size_limit_keeps_the_file_small_and_the_newest_lines(
    box: Core,
) -> None:
    limit = 4096
    ident = await started(
        box,
        "i=0; while [ $i -lt 300 ]; do echo line-$i-0123456789abcdef; i=$((i+1)); done",
        log_max_size=limit,
    )
    await lifecycle.wait(box, ident)

    log_file = ContainerPaths.of(box.config, ident).log
    assert log_file.stat().st_size <= limit
    lines = await collect(box, ident)
    assert lines[-1].data == b"line-299-0123456789abcdef\n"


def test_parse_line() -> None:
    line = parse_line(b"2024-01-02T03:04:05.123456789+00:00 stderr F oops")
    assert line is not None
    assert (line.stream, line.data, line.partial) == ("stderr", b"oops\n", False)
    assert line.time.isoformat() == "2024-01-02T03:04:05.123456+00:00"
    assert parse_line(b"garbage") is None
