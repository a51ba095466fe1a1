"""The Pods panel: the CRI's pod sandboxes in this store, read-only.

Pods are made and removed by kubelet or crictl through the CRI that
``servin-tui --headless`` serves; the TUI shows them and their containers.
Reading them loads the CRI's protobuf modules, so the panel reads nothing
until it is first shown, and the TUI starts without them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rich.text import Text

from servin_core.errors import ServinError
from servin_core.events import Event
from servin_tui.app.backend import Backend, PodSandbox
from servin_tui.app.panel import Panel
from servin_tui.app.rows import Clock, Row
from servin_tui.cli.humanize import human_age

__all__ = ["PodsPanel", "pod_row"]


def pod_row(pod: PodSandbox, now: float | None = None) -> Row:
    """POD ID NAME NAMESPACE STATE IP CTRS (containers) CREATED, as crictl pods."""
    now = time.time() if now is None else now
    state = "Ready" if pod.state == "ready" else "NotReady"
    return Row(
        pod.id,
        pod.id,
        (
            pod.id[:13],
            pod.name,
            pod.namespace,
            state,
            pod.ip,
            str(len(pod.containers)),
            human_age(pod.created, now),
        ),
        (None, None, None, None, None, len(pod.containers), pod.created),
    )


class PodsPanel(Panel):
    """Every pod sandbox, ready or not."""

    TITLE = "Pods"
    COLUMNS = (
        ("id", "POD ID"),
        ("name", "NAME"),
        ("namespace", "NAMESPACE"),
        ("state", "STATE"),
        ("ip", "IP"),
        ("containers", "CTRS"),
        ("created", "CREATED"),
    )
    SORT = ("created", True)
    MARKS = False
    COMMANDS = (
        ("Pods: filter", "Show only pods matching a text", "filter"),
        ("Pods: sort", "Sort by the next column", "sort"),
    )
    EMPTY = (
        "No pods. Pods are made through the CRI, not from here: run "
        "`servin-tui --headless` and point kubelet or crictl at its cri.sock "
        "(for instance `crictl runp pod.json`). They appear here as they are made."
    )

    def __init__(self, backend: Backend, clock: Clock, *, id: str) -> None:
        super().__init__(backend, clock, id=id)
        self._failure: str | None = None
        """The last read's error, said once (None: the last read worked)."""

    def shown(self) -> None:
        if self._was_shown and self._failure is not None:
            self.reload()  # choosing the tab again tries again
        else:
            super().shown()

    async def fetch_all(self) -> Sequence[PodSandbox]:
        try:
            pods = await self.backend.list_pods()
        except (ServinError, OSError) as e:
            if str(e) == self._failure:
                return list(self.objects.values())  # said already
            self._failure = str(e)
            raise
        self._failure = None
        return pods

    async def apply_events(self, events: Sequence[Event]) -> None:
        # The CRI records each pod's create, start, stop and remove; a
        # pod's containers are the core's, and their comings and goings
        # change its CTRS count. There are few pods: read them all. After a
        # failed read, only choosing the tab again tries again.
        if self._failure is None and any(
            e.type == "pod"
            or (e.type == "container" and e.action in ("create", "destroy"))
            for e in events
        ):
            self.reload()

    def rows_of(self, obj: PodSandbox, now: float) -> list[Row]:
        return [pod_row(obj, now)]

    async def detail(self, row: Row) -> Text | str:
        pod = self.objects.get(row.owner)
        return "" if pod is None else pod_detail(pod)


def pod_detail(pod: PodSandbox) -> Text:
    """What crictl inspectp would show first."""
    text = Text()
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(pod.created))
    containers = ", ".join(f"{name} ({cid[:12]})" for cid, name in pod.containers)
    for label, value in (
        ("ID", pod.id),
        ("Name", pod.name),
        ("Namespace", pod.namespace),
        ("UID", pod.uid),
        ("Attempt", str(pod.attempt)),
        ("State", pod.state),
        ("IP", pod.ip or "none (loopback only)"),
        ("Hostname", pod.hostname),
        ("Runtime", pod.runtime_handler),
        ("Created", created),
        ("Containers", containers or "none"),
        ("Labels", ", ".join(f"{k}={v}" for k, v in sorted(pod.labels.items()))),
        (
            "Annotations",
            ", ".join(f"{k}={v}" for k, v in sorted(pod.annotations.items())),
        ),
    ):
        if value:
            text.append(f"{label:<12}", style="bold")
            text.append(f"{value}\n")
    return text
