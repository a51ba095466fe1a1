"""A panel of containers whose running rows show their CPU and memory.

Once a second the panel asks the backend for the counters of the running
containers whose rows are on the screen (none while the panel is hidden
or filtered away), and redraws their CPU % and MEM cells and the selected
one's sparklines in the detail pane. When no container runs the timer is
paused: no work at all, and none of the stats modules is even imported
until a container ran.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on, work
from textual.timer import Timer
from textual.widgets import DataTable

from servin_core.containers.model import Container, State
from servin_tui.app.panel import Panel
from servin_tui.app.rows import Row

if TYPE_CHECKING:
    from servin_tui.app.stats import StatsTracker

__all__ = ["StatsPanel"]

_SECONDS = 1.0


class StatsPanel(Panel):
    """A :class:`Panel` of containers, with two cells for their usage."""

    stats: StatsTracker | None = None
    """The last minute of each running container shown (once one ran)."""
    stats_timer: Timer

    def with_usage(self, row: Row, container: Container) -> Row:
        """``row`` with the CPU % and MEM cells (blank unless it runs)."""
        running = container.state is State.RUNNING
        usage = self.stats.get(container.id) if self.stats and running else None
        if usage is None:
            return Row(row.key, row.owner, (*row.cells, "", ""), row.sort_keys)
        from servin_tui.app.stats import usage_cells

        cells, keys = usage_cells(usage)
        missing = len(row.cells) - len(row.sort_keys)
        sort_keys = (*row.sort_keys, *(None,) * missing, *keys)
        return Row(row.key, row.owner, (*row.cells, *cells), sort_keys)

    def on_mount(self) -> None:
        self.stats_timer = self.set_interval(_SECONDS, self._sample_stats, pause=True)

    def rows_changed(self) -> None:
        super().rows_changed()
        running = [i for i, c in self.objects.items() if c.state is State.RUNNING]
        # No container runs: no timer, no work.
        if running:
            self.stats_timer.resume()
        else:
            self.stats_timer.pause()
        if self.stats is not None:
            self.stats.keep_only(running)
            self._show_usage()

    def _sampled(self) -> list[str]:
        """Running containers whose rows are on the screen now."""
        if not self.is_on_screen or not self.screen.is_current:
            return []
        table = self.table
        top = round(table.scroll_offset.y)
        shown = table.visible_keys()[top : top + table.size.height]
        running = State.RUNNING
        return [
            k for k in shown if k in self.objects and self.objects[k].state is running
        ]

    @work(exclusive=True, group="stats")
    async def _sample_stats(self) -> None:
        from servin_tui.app.stats import StatsTracker

        idents = self._sampled()
        if not idents:
            return
        samples = await self.guarded(self.backend.container_samples(idents), "stats")
        if samples is None:
            return
        if self.stats is None:
            self.stats = StatsTracker()
        self.stats.add(self.objects, samples)
        now = self.clock()
        rows = [
            r
            for i in idents
            if i in self.objects
            for r in self.rows_of(self.objects[i], now)
        ]
        self.table.apply(rows, [])
        self._show_usage()

    @on(DataTable.RowHighlighted)
    def _show_usage(self) -> None:
        """The selected container's sparklines in the detail pane."""
        if self.stats is None:
            return  # nothing ever ran: not even the import
        from servin_tui.app.stats_view import StatsView

        row = self.table.current()
        usage = self.stats.get(row.owner) if row is not None else None
        found = self.query(StatsView)
        if found:
            found.first().show(usage)
        elif usage is not None:
            view = StatsView()
            self.query_one(".detail").mount(view, before=0)
            self.call_after_refresh(view.show, usage)
