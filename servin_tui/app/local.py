"""The backend of an in-process core.

The core runs on a thread of its own with its own event loop: its async
operations (pull, push) run there, and its blocking calls (SQLite, files)
run in worker threads. The UI's loop only awaits futures, so a long prune or
a busy database never freezes the screen; this is also the shape of a remote
backend, whose work happens elsewhere too.
"""

from __future__ import annotations

import asyncio
import importlib
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from servin_core.config import Config
from servin_core.containers.logs import LogLine
from servin_core.containers.model import Container, ContainerConfig
from servin_core.containers.stats import Sample
from servin_core.core import Core
from servin_core.errors import NotFound, Unavailable
from servin_core.events import Event
from servin_core.images.progress import ProgressCallback, ProgressEvent
from servin_core.images.store import Image
from servin_tui.app.backend import ContainerAction, ExecSession, PruneResult
from servin_tui.app.local_objects import LocalObjects

if TYPE_CHECKING:
    from servin_core.network.model import Network
    from servin_core.volumes.model import Volume

__all__ = ["LIFECYCLE_MODULE", "LocalBackend"]

T = TypeVar("T")

LIFECYCLE_MODULE = "servin_core.containers.lifecycle"
"""Where the container operations live (start, stop, ...), when they do."""

_POLL_SECONDS = 0.5


class LocalBackend(LocalObjects):
    """A :class:`~servin_tui.app.backend.Backend` on ``Core.open(config)``."""

    def __init__(self, core: Core, *, poll_seconds: float = _POLL_SECONDS) -> None:
        self._core = core
        self._poll_seconds = poll_seconds
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="servin-core", daemon=True
        )
        self._thread.start()

    @classmethod
    def open(cls, config: Config) -> LocalBackend:
        return cls(Core.open(config))

    @property
    def description(self) -> str:
        return f"local: {self._core.config.data_dir}"

    @property
    def data_dir(self) -> str:
        return str(self._core.config.data_dir)

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking core call in a worker thread.

        A database failure (locked past the busy timeout, a full disk) is
        the core's Unavailable here, so that the screens report it like
        any other error instead of stopping.
        """
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except sqlite3.Error as e:
            path = str(self._core.db.path)
            raise Unavailable("database", path, str(e)) from e

    async def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run one of the core's coroutines on the core's loop."""
        return await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(coro, self._loop)
        )

    def _relay(self, progress: ProgressCallback) -> ProgressCallback:
        """A callback for the core's thread that calls ``progress`` on the
        caller's loop, without waiting for it."""
        caller = asyncio.get_running_loop()

        def relay(event: ProgressEvent) -> None:
            caller.call_soon_threadsafe(progress, event)

        return relay

    # Images

    async def list_images(self) -> list[Image]:
        return await self._call(self._core.images.list)

    async def get_image(self, image_id: str) -> Image | None:
        try:
            return await self._call(self._core.images.get, image_id)
        except NotFound:
            return None

    async def inspect_image(self, image_id: str) -> dict[str, Any]:
        from servin_core.images.inspect import inspect

        def run() -> dict[str, Any]:
            return inspect(self._core, self._core.images.get(image_id))

        return await self._call(run)

    async def pull_image(self, reference: str, progress: ProgressCallback) -> Image:
        from servin_core.images.pull import pull

        relay = self._relay(progress)
        return await self._run(pull(self._core, reference, progress=relay))

    async def push_image(self, reference: str, progress: ProgressCallback) -> str:
        from servin_core.images.push import push

        relay = self._relay(progress)
        return await self._run(push(self._core, reference, progress=relay))

    async def tag_image(self, source: str, target: str) -> None:
        from servin_core.images.reference import parse_reference

        def run() -> None:
            image = self._core.images.resolve(source)
            self._core.images.tag(image, parse_reference(target))

        await self._call(run)

    async def remove_image(
        self, name: str, *, force: bool = False
    ) -> list[tuple[str, str]]:
        return await self._call(self._core.images.remove, name, force=force)

    async def prune_images(self, *, all: bool = False) -> PruneResult:
        from servin_core.images.prune import prune

        report = await self._call(prune, self._core, all=all)
        return PruneResult(list(report.deleted), report.reclaimed)

    # Containers

    async def list_containers(self) -> list[Container]:
        return await self._call(self._listed)

    async def get_container(self, container_id: str) -> Container | None:
        try:
            return await self._call(self._reconciled, container_id)
        except NotFound:
            return None

    def _listed(self) -> list[Container]:
        return [self._current(c) for c in self._core.containers.list()]

    def _reconciled(self, container_id: str) -> Container:
        return self._current(self._core.containers.get(container_id))

    def _current(self, container: Container) -> Container:
        """``container`` brought up to date when its process may have died
        while no Servin process watched (conmon's files say)."""
        lifecycle = _lifecycle()
        if lifecycle is None or not container.state.is_active:
            return container
        current: Container = lifecycle.refresh(self._core, container)
        return current

    def container_actions(self) -> frozenset[ContainerAction]:
        lifecycle = _lifecycle()
        if lifecycle is None:
            return frozenset()
        return frozenset(a for a in ContainerAction if hasattr(lifecycle, a.value))

    async def container_action(self, action: ContainerAction, name: str) -> None:
        lifecycle = _lifecycle()
        operation = getattr(lifecycle, action.value, None)
        if operation is None:
            raise NotFound(
                "container operation", action.value, "not available in this core yet"
            )
        await self._run(operation(self._core, name))

    async def container_logs(
        self, name: str, *, follow: bool = True, tail: int | None = None
    ) -> AsyncIterator[LogLine]:
        from servin_core.containers.logs import read_logs

        # The reader runs on the core's loop; lines cross to the caller's
        # loop through a queue. None ends the stream, an exception fails it.
        caller = asyncio.get_running_loop()
        queue: asyncio.Queue[LogLine | Exception | None] = asyncio.Queue()

        def put(item: LogLine | Exception | None) -> None:
            caller.call_soon_threadsafe(queue.put_nowait, item)

        async def pump() -> None:
            try:
                container = await asyncio.to_thread(self._core.containers.resolve, name)
                lines = read_logs(self._core, container, follow=follow, tail=tail)
                async for line in lines:
                    put(line)
            except Exception as e:
                put(e)
            else:
                put(None)

        future = asyncio.run_coroutine_threadsafe(pump(), self._loop)
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            future.cancel()

    # Running

    async def has_image(self, reference: str) -> bool:
        try:
            await self._call(self._core.images.resolve, reference)
        except NotFound:
            return False
        return True

    async def create_container(
        self, config: ContainerConfig, *, name: str | None = None
    ) -> Container:
        from servin_core.containers.lifecycle import create

        return await self._run(create(self._core, config, name=name))

    # Volumes and networks

    async def create_volume(
        self,
        name: str | None,
        *,
        labels: dict[str, str],
        options: dict[str, str],
    ) -> Volume:
        from servin_core.volumes.operations import create

        return await self._run(create(self._core, name, labels=labels, options=options))

    async def create_network(
        self,
        name: str,
        *,
        subnet: str | None,
        gateway: str | None,
        internal: bool,
        labels: dict[str, str],
    ) -> Network:
        from servin_core.network.manage import create_network

        return await self._call(
            create_network,
            self._core,
            name,
            subnet=subnet,
            gateway=gateway,
            internal=internal,
            labels=labels,
        )

    # Exec and stats

    async def open_exec(
        self, container_id: str, cmd: Sequence[str], *, columns: int, rows: int
    ) -> ExecSession:
        from servin_tui.app.local_exec import LocalExecSession

        return await LocalExecSession.start(
            self._core, self._loop, container_id, cmd, columns=columns, rows=rows
        )

    async def container_samples(
        self, container_ids: Sequence[str]
    ) -> dict[str, Sample]:
        from servin_core.containers.stats import sample

        def run() -> dict[str, Sample]:
            samples = {}
            for container_id in container_ids:
                try:
                    container = self._core.containers.get(container_id)
                except NotFound:
                    continue
                if container.state.is_active and container.pid > 0:
                    samples[container_id] = sample(container)
            return samples

        return await self._call(run)

    # Events

    async def last_event(self) -> int:
        row = await self._call(self._core.db.query_one, "SELECT MAX(seq) FROM events")
        return int(row[0] or 0) if row is not None else 0

    async def events_since(self, seq: int) -> list[Event]:
        return await self._call(self._core.events.since, seq)

    async def watch_events(self, seq: int) -> AsyncIterator[list[Event]]:
        # Polling the table is what lets this process see every other
        # process's changes; one indexed query every half second is cheap.
        while True:
            events = await self.events_since(seq)
            if events:
                seq = events[-1].seq
                yield events
            await asyncio.sleep(self._poll_seconds)

    async def close(self) -> None:
        await asyncio.to_thread(self.close_now)

    def close_now(self) -> None:
        """Stop the core's loop and close the core, from any thread."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        # What still ran there (a log being followed) ends properly, so that
        # its files are closed, before the loop and the core go.
        self._loop.run_until_complete(_finish(self._loop))
        self._loop.close()
        self._core.close()


async def _finish(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the loop's remaining tasks and close its async generators."""
    tasks = [t for t in asyncio.all_tasks(loop) if t is not asyncio.current_task()]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await loop.shutdown_asyncgens()


def _lifecycle() -> Any:
    """The container lifecycle module, or None while the core has none."""
    try:
        return importlib.import_module(LIFECYCLE_MODULE)
    except ModuleNotFoundError as e:
        if e.name != LIFECYCLE_MODULE:
            raise  # the module exists but is broken: say so
        return None
