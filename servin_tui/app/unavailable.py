"""Panels for what the core does not offer yet: today, the VM.

Each says plainly what is missing, so that a user is not left wondering
whether the list is empty or the feature absent. They are replaced by real
panels as the core grows.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

__all__ = ["UNAVAILABLE", "UnavailablePanel"]

UNAVAILABLE = {
    "vm": (
        "VM",
        "The VM is not available in this version of Servin: the core has no "
        "VM mode yet (starting a Linux VM with QEMU and running the core in "
        "it). Containers run natively on this host.",
    ),
}
"""Panel ID: its title, and what it says."""


class UnavailablePanel(Vertical):
    """A panel whose feature the core does not have yet.

    It takes the focus when shown: a table left focused in a hidden tab
    would pull its tab back to the front.
    """

    can_focus = True

    DEFAULT_CSS = """
    UnavailablePanel {
        padding: 1 2;
    }
    UnavailablePanel > .title {
        text-style: bold;
        margin-bottom: 1;
    }
    UnavailablePanel > .why {
        color: $text-muted;
    }
    """

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.feature, self.why = UNAVAILABLE[id]

    def compose(self) -> ComposeResult:
        yield Static(f"{self.feature}: not available yet", classes="title")
        yield Static(self.why, classes="why")
