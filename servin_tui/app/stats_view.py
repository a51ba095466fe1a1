"""The selected container's last minute of CPU and memory, at the top of
the detail pane: one line each, the figure and its sparkline, so that the
pair fits above the inspect data even at 80x24."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Sparkline

from servin_tui.app.stats import HISTORY, Usage
from servin_tui.cli.containers_stats import binary_size

__all__ = ["StatsView"]


class StatsView(Vertical):
    """CPU % and memory with their sparklines; hidden without samples."""

    DEFAULT_CSS = """
    StatsView {
        height: auto;
        margin-bottom: 1;
    }
    StatsView.-none {
        display: none;
    }
    StatsView > Horizontal {
        height: 1;
    }
    StatsView Label {
        width: 30;
        text-style: bold;
    }
    StatsView Sparkline {
        width: 1fr;
        max-width: 60;
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Label("", id="cpu-figure", markup=False)
            yield Sparkline([], id="cpu-sparkline")
        with Horizontal():
            yield Label("", id="memory-figure", markup=False)
            yield Sparkline([], id="memory-sparkline")

    def on_mount(self) -> None:
        self.add_class("-none")
        if self._early is not None:
            self.show(self._early)

    _early: Usage | None = None
    """Usage given before the view had its labels (drawn once mounted)."""

    def show(self, usage: Usage | None) -> None:
        """Draw ``usage`` (None: the container runs not, or is not sampled)."""
        if not self.is_mounted:
            # Mounted while another screen is in front, the view may not
            # be composed yet when the call after refresh comes.
            self._early = usage
            return
        self.set_class(usage is None or not usage.memory, "-none")
        if usage is None or not usage.memory:
            return
        cpu = f"{usage.cpu[-1]:.2f}%" if usage.cpu else "…"
        memory = binary_size(usage.memory[-1])
        limit = binary_size(usage.memory_limit)
        seconds = min(len(usage.memory), HISTORY)
        self.query_one("#cpu-figure", Label).update(f"CPU {cpu} ({seconds} s)")
        self.query_one("#memory-figure", Label).update(f"Memory {memory} / {limit}")
        self.query_one("#cpu-sparkline", Sparkline).data = list(usage.cpu)
        memory_values = [float(v) for v in usage.memory]
        self.query_one("#memory-sparkline", Sparkline).data = memory_values
