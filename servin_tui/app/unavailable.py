"""Panels for what the core does not offer yet: pods, volumes, networks,
the VM.

Each says plainly what is missing, so that a user is not left wondering
whether the list is empty or the feature absent. They are replaced by real
panels as the core grows.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Static

from servin_tui.app.backend import Backend

__all__ = ["CREATE_ONLY", "UNAVAILABLE", "CreateOnlyPanel", "UnavailablePanel"]

UNAVAILABLE = {
    "pods": (
        "Pods",
        "Pods are not available in this version of Servin: the core has no pod "
        "sandboxes yet (they arrive with the CRI).",
    ),
    "volumes": (
        "Volumes",
        "Volumes are not available in this version of Servin: the core cannot "
        "create or list named volumes yet.",
    ),
    "networks": (
        "Networks",
        "Networks are not available in this version of Servin: containers get "
        "a loopback-only network namespace; CNI networks come later.",
    ),
    "vm": (
        "VM",
        "The VM is not available on this host with this version of Servin: "
        "the core runs containers natively here and cannot start a Servin VM "
        "yet.",
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


CREATE_ONLY = {
    "volumes": (
        "Volumes",
        "The TUI does not list volumes yet (`servin-tui volume ls` does). "
        "Press c to create one.",
    ),
    "networks": (
        "Networks",
        "The TUI does not list networks yet (`servin-tui network ls` does). "
        "Press c to create one.",
    ),
}
"""Panels whose objects the core has but the TUI cannot list yet."""


class CreateOnlyPanel(UnavailablePanel):
    """Volumes or networks: no list yet, but ``c`` creates one."""

    # TODO: list volumes and networks live like containers (the core's
    # APIs have landed; the panels are still to be written), then drop this.
    BINDINGS = [Binding("c", "create", "Create")]

    def __init__(self, backend: Backend, *, id: str) -> None:
        super().__init__(id=id)
        self.backend = backend
        self.feature, self.why = CREATE_ONLY[id]

    def compose(self) -> ComposeResult:
        yield Static(self.feature, classes="title")
        yield Static(self.why, classes="why")

    def action_create(self) -> None:
        from servin_tui.app.create_dialogs import NetworkDialog, VolumeDialog

        if self.id == "volumes":
            self.app.push_screen(VolumeDialog(self.backend))
        else:
            self.app.push_screen(NetworkDialog(self.backend))
