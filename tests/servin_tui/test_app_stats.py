"""CPU and memory in the Containers panel, against a real running
container: the row's CPU % and MEM cells and the detail pane's sparklines
fill in second by second, and nothing is sampled for rows not shown or
when no container runs."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from app_harness import RecordingApp, root_config, until
from textual.widgets import Sparkline

from servin_core.config import Config
from servin_core.containers import lifecycle
from servin_core.containers.model import Container, ContainerConfig
from servin_core.containers.stats import Sample
from servin_core.core import Core
from servin_core.errors import NotFound
from servin_core.images.importer import import_image
from servin_tui.app.containers import ContainersPanel
from servin_tui.app.local import LocalBackend
from servin_tui.app.stats_view import StatsView

# A little work every tenth of a second, so the CPU line moves.
SCRIPT = (
    "trap 'exit 0' TERM; "
    "while true; do i=0; while [ $i -lt 200 ]; do i=$((i+1)); done; sleep 0.1; done"
)


class CountingBackend(LocalBackend):
    """The local backend, noting which containers it was asked to sample."""

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self.asked: list[list[str]] = []

    async def container_samples(
        self, container_ids: Sequence[str]
    ) -> dict[str, Sample]:
        self.asked.append(list(container_ids))
        return await super().container_samples(container_ids)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
async def busy(config: Config, busybox_rootfs_tar: Path) -> AsyncIterator[Container]:
    with Core.open(config) as core:
        with busybox_rootfs_tar.open("rb") as source:
            await import_image(core, source, "box:1")
        container = await lifecycle.create(
            core, ContainerConfig(image="box:1", cmd=["sh", "-c", SCRIPT]), name="busy"
        )
        await lifecycle.start(core, container.id)
        yield container
        with contextlib.suppress(NotFound):
            await lifecycle.remove(core, container.id, force=True)


def counted_app(config: Config) -> tuple[RecordingApp, CountingBackend]:
    backend = CountingBackend(Core.open(config))
    return RecordingApp(backend), backend


def cells(panel: ContainersPanel) -> tuple[str, str]:
    row = panel.table.current()
    assert row is not None
    return row.cells[6], row.cells[7]


async def test_a_running_container_shows_cpu_memory_and_sparklines(
    config: Config, busy: Container
) -> None:
    app, _ = counted_app(config)

    async with app.run_test(size=(160, 40)) as pilot:
        panel = app.query_one(ContainersPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the container")

        def sparkline_points() -> int:
            found = app.query(StatsView)
            if not found or not found.first().display:
                return 0
            return len(found.first().query_one("#cpu-sparkline", Sparkline).data or [])

        await until(pilot, lambda: sparkline_points() >= 3, "three CPU samples")
        cpu, memory = cells(panel)
        figure, spark = cpu.split(" ")
        assert figure.endswith("%") and float(figure[:-1]) >= 0
        assert len(spark) >= 3 and set(spark) <= set("▁▂▃▄▅▆▇█")
        assert memory[0].isdigit() and float(memory.rstrip("KMGiB")) > 0

        view = app.query_one(StatsView)
        memory_line = view.query_one("#memory-sparkline", Sparkline)
        assert memory_line.data and min(memory_line.data) > 0
        assert str(view.query_one("#memory-figure").render()).startswith("Memory ")


async def test_nothing_is_sampled_for_hidden_rows_or_when_none_runs(
    config: Config, busy: Container
) -> None:
    app, backend = counted_app(config)

    async with app.run_test(size=(160, 40)) as pilot:
        panel = app.query_one(ContainersPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the container")
        await until(pilot, lambda: backend.asked, "a first sample")
        assert backend.asked[0] == [busy.id]

        # Filtered out: the row is not shown, so it is not sampled.
        await pilot.press("slash", *"nomatch", "enter")
        await until(pilot, lambda: not panel.table.visible_keys(), "the row hidden")
        asked = len(backend.asked)
        await pilot.pause(2.5)
        assert len(backend.asked) == asked

        await pilot.press("slash")
        await pilot.press(*["backspace"] * len("nomatch"), "enter")
        await until(pilot, lambda: len(backend.asked) > asked, "sampling again")

        # Stopped: no container runs, the timer stops and the cells empty.
        await pilot.press("S", "y")
        await until(pilot, lambda: "Exited" in panel.table.current().cells[4], "stop")
        asked = len(backend.asked)
        await pilot.pause(2.5)
        assert len(backend.asked) == asked
        assert cells(panel) == ("", "")
        assert not app.query(StatsView) or not app.query_one(StatsView).display
