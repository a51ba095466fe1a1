"""attach against real busybox containers run by conmon and runc: piped
input reaching its end, a terminal's size and resize, detaching with the
keys and attaching again, and the refusals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import import_busybox, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.attach import AttachEnd, attach, resize
from servin_core.containers.attach_keys import DetachScanner, parse_detach_keys
from servin_core.containers.model import ContainerConfig, State
from servin_core.core import Core
from servin_core.errors import Conflict, InvalidArgument

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


class Output:
    """What the container wrote, per stream, and a way to wait for text."""

    def __init__(self) -> None:
        self.streams: dict[str, bytes] = {"stdout": b"", "stderr": b""}
        self._changed = asyncio.Condition()

    async def __call__(self, stream: str, data: bytes) -> None:
        async with self._changed:
            self.streams[stream] += data
            self._changed.notify_all()

    async def until(self, text: bytes, start: int = 0) -> int:
        """Wait until stdout holds ``text`` after ``start``; where it ends."""
        async with self._changed:
            await self._changed.wait_for(lambda: text in self.streams["stdout"][start:])
            found = self.streams["stdout"].index(text, start)
            return found + len(text)


class Keyboard:
    """Input typed as the test goes."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    def type(self, data: bytes) -> None:
        self._queue.put_nowait(data)

    def end(self) -> None:
        self._queue.put_nowait(None)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (data := await self._queue.get()) is not None:
            yield data


async def chunks(*items: bytes) -> AsyncIterator[bytes]:
    for item in items:
        yield item


async def test_piped_input_reaches_its_end_and_all_output_arrives(box: Core) -> None:
    script = "cat; echo done; echo oops >&2; exit 3"
    container = await lifecycle.create(
        box,
        ContainerConfig(
            image=IMAGE, cmd=["sh", "-c", script], open_stdin=True, stdin_once=True
        ),
    )
    output = Output()

    result = await attach(
        box,
        container.name,
        stdin=chunks(b"a\n", b"b\n"),
        on_output=output,
        stopped="start",
    )

    assert (result.end, result.exit_code) == (AttachEnd.EXITED, 3)
    assert output.streams == {"stdout": b"a\nb\ndone\n", "stderr": b"oops\n"}
    # conmon wrote the log as well.
    log = (box.config.data_dir / "containers" / container.id / "ctr.log").read_text()
    assert "stdout F done" in log and "stderr F oops" in log


async def test_terminal_gets_the_size_and_follows_a_resize(box: Core) -> None:
    script = "stty size; while read line; do stty size; done"
    container = await lifecycle.create(
        box,
        ContainerConfig(
            image=IMAGE, cmd=["sh", "-c", script], tty=True, open_stdin=True
        ),
    )
    output, keyboard = Output(), Keyboard()
    attached = asyncio.create_task(
        attach(
            box,
            container.id,
            stdin=aiter(keyboard),
            on_output=output,
            stopped="start",
            size=(33, 77),
        )
    )

    seen = await output.until(b"33 77\r\n")
    await resize(box, container.id, 40, 100)
    # conmon applies the size from its control fifo, apart from the input:
    # ask again until the new size shows.
    while b"40 100" not in output.streams["stdout"][seen:]:
        keyboard.type(b"\r")
        seen = await output.until(b"\r\n", seen)
    keyboard.type(b"\x10\x11")

    result = await attached
    assert result.end is AttachEnd.DETACHED
    assert box.containers.get(container.id).state is State.RUNNING


async def test_detach_then_attach_again_sees_new_output_and_exit(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sh"], tty=True, open_stdin=True)
    )
    output, keyboard = Output(), Keyboard()
    first = asyncio.create_task(
        attach(
            box, container.id, stdin=aiter(keyboard), on_output=output, stopped="start"
        )
    )
    keyboard.type(b"echo one-$((20+1))\r")
    await output.until(b"one-21")
    keyboard.type(b"\x10\x11")
    assert (await first).end is AttachEnd.DETACHED
    assert box.containers.get(container.id).state is State.RUNNING

    again, keyboard = Output(), Keyboard()
    second = asyncio.create_task(
        attach(box, container.name, stdin=aiter(keyboard), on_output=again)
    )
    keyboard.type(b"echo two-$((40+2)); exit 5\r")
    result = await second

    assert (result.end, result.exit_code) == (AttachEnd.EXITED, 5)
    assert b"two-42" in again.streams["stdout"]
    assert b"one-21" not in again.streams["stdout"]


async def test_attach_to_a_running_container_shows_new_output_apart(
    box: Core,
) -> None:
    script = "read a; echo out-$a; echo err-$a >&2; read b; echo out-$b"
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sh", "-c", script], open_stdin=True)
    )
    await lifecycle.start(box, container.id)
    output, keyboard = Output(), Keyboard()
    attached = asyncio.create_task(
        attach(box, container.id, stdin=aiter(keyboard), on_output=output)
    )

    # The container writes only after the input, so only once attached.
    keyboard.type(b"x\n")
    await output.until(b"out-x\n")
    keyboard.type(b"y\n")
    result = await attached

    assert (result.end, result.exit_code) == (AttachEnd.EXITED, 0)
    assert output.streams == {"stdout": b"out-x\nout-y\n", "stderr": b"err-x\n"}


async def test_attach_waits_for_a_start_and_sees_the_first_output(
    box: Core,
) -> None:
    script = "echo first; echo second >&2; exit 6"
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sh", "-c", script])
    )
    output = Output()
    # The Engine API's order: attach, then start (from another request).
    attached = asyncio.create_task(
        attach(box, container.id, stdin=None, on_output=output, stopped="wait")
    )
    await asyncio.sleep(0)
    await lifecycle.start(box, container.id)

    result = await attached
    assert (result.end, result.exit_code) == (AttachEnd.EXITED, 6)
    assert output.streams == {"stdout": b"first\n", "stderr": b"second\n"}


async def test_attach_to_a_stopped_container_names_it(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["true"]), name="sleepy"
    )

    with pytest.raises(Conflict, match=r"sleepy.*not running"):
        await attach(box, "sleepy", stdin=None, on_output=Output())
    with pytest.raises(Conflict, match="sleepy"):
        await resize(box, container.id, 10, 10)


async def test_attach_to_a_paused_container_says_to_unpause(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "600"]), name="frozen"
    )
    await lifecycle.start(box, container.id)
    await lifecycle.pause(box, container.id)

    try:
        with pytest.raises(Conflict, match=r"frozen.*paused.*unpause"):
            await attach(box, "frozen", stdin=None, on_output=Output())
    finally:
        await lifecycle.unpause(box, container.id)


def test_detach_keys_in_docker_syntax() -> None:
    assert parse_detach_keys("ctrl-p,ctrl-q") == b"\x10\x11"
    assert parse_detach_keys("ctrl-a,x,ctrl-@,ctrl-_") == b"\x01x\x00\x1f"
    assert parse_detach_keys("") == b""
    with pytest.raises(InvalidArgument, match="ctrl-1"):
        parse_detach_keys("ctrl-1")
    with pytest.raises(InvalidArgument, match="pq"):
        parse_detach_keys("pq")


def test_detach_scanner_holds_a_partial_sequence_back() -> None:
    scanner = DetachScanner(b"\x10\x11")

    assert scanner.feed(b"ab\x10") == (b"ab", False)
    assert scanner.feed(b"c") == (b"\x10c", False)
    assert scanner.feed(b"\x10\x10") == (b"\x10", False)
    assert scanner.feed(b"\x11rest") == (b"", True)
