"""The Networks panel: ``docker network ls`` with the addresses, live.

Rows change as network events arrive; CTRS counts the containers on
each network (running or not, as removal counts them), and changes with
container events and ``network connect``/``disconnect``. ``c`` creates,
``d`` removes (refused by the core while containers are on the network,
or for the default network, and said in a notification), ``x`` prunes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.binding import Binding

from servin_tui.app.counted import CountedPanel
from servin_tui.app.rows import Row

if TYPE_CHECKING:
    from servin_core.network.model import Network

__all__ = ["NetworksPanel", "network_row"]

_BRIDGE_OPTION = "com.docker.network.bridge.name"


def network_row(network: Network, containers: int) -> Row:
    """NAME NETWORK ID DRIVER SUBNET GATEWAY INTERNAL CTRS (containers, short so
    that the table fits 80 columns)."""
    return Row(
        network.id,
        network.id,
        (
            network.name,
            network.short_id,
            network.driver,
            network.subnet,
            network.gateway,
            "yes" if network.internal else "no",
            str(containers),
        ),
        (None, None, None, None, None, None, containers),
    )


class NetworksPanel(CountedPanel):
    """Every network: the default one and those users made."""

    BINDINGS = [
        Binding("c", "create", "Create"),
        Binding("d", "remove", "Remove"),
        Binding("x", "prune", "Prune"),
    ]

    TITLE = "Networks"
    KIND = "network"
    COLUMNS = (
        ("name", "NAME"),
        ("id", "NETWORK ID"),
        ("driver", "DRIVER"),
        ("subnet", "SUBNET"),
        ("gateway", "GATEWAY"),
        ("internal", "INTERNAL"),
        ("containers", "CTRS"),
    )
    SORT = ("name", False)
    COMMANDS = (
        ("Networks: create", "Create a bridge network", "create"),
        ("Networks: remove", "Remove the selected or marked networks", "remove"),
        ("Networks: prune", "Remove every network no container is on", "prune"),
        ("Networks: filter", "Show only networks matching a text", "filter"),
        ("Networks: sort", "Sort by the next column", "sort"),
    )
    EMPTY = "No networks. Press c to create one."

    EVENT_TYPE = "network"
    USAGE_EVENTS = CountedPanel.USAGE_EVENTS | {
        ("network", "connect"),
        ("network", "disconnect"),
    }

    async def fetch_objects(self) -> Sequence[Network]:
        return await self.backend.list_networks()

    async def fetch_usage(self) -> dict[str, int]:
        return await self.backend.network_usage()

    async def fetch_one(self, owner: str) -> Network | None:
        return await self.backend.get_network(owner)

    def rows_of(self, obj: Network, now: float) -> list[Row]:
        return [network_row(obj, self.usage.get(obj.id, 0))]

    async def detail(self, row: Row) -> Text | str:
        return network_detail(await self.backend.inspect_network(row.owner))

    # Actions

    def action_create(self) -> None:
        from servin_tui.app.create_dialogs import NetworkDialog

        self.app.push_screen(NetworkDialog(self.backend))

    async def remove_one(self, name: str) -> None:
        await self.backend.remove_network(name)

    def action_prune(self) -> None:
        self.confirm("Remove every network no container is on?", self._prune)

    @work(group="actions")
    async def _prune(self) -> None:
        names = await self.guarded(self.backend.prune_networks(), "prune networks")
        if names is not None:
            listed = f": {', '.join(names)}" if names else ""
            self.app.notify(f"Deleted {len(names)} networks{listed}", title=self.TITLE)


def network_detail(data: dict[str, Any]) -> Text:
    """The parts of a network's inspect document a person looks for."""
    text = Text()
    ipam = (data.get("IPAM") or {}).get("Config") or [{}]
    attached = [
        f"{name} ({ip})" if ip else name for name, ip in data.get("Attached") or []
    ]
    labels = sorted((data.get("Labels") or {}).items())
    for label, value in (
        ("Name", data.get("Name")),
        ("ID", data.get("Id")),
        ("Driver", data.get("Driver")),
        ("Bridge", (data.get("Options") or {}).get(_BRIDGE_OPTION)),
        ("Created", data.get("Created")),
        ("Subnet", ipam[0].get("Subnet")),
        ("Gateway", ipam[0].get("Gateway")),
        ("Internal", "yes" if data.get("Internal") else "no"),
        ("Containers", ", ".join(attached) or "none"),
        ("Labels", ", ".join(f"{k}={v}" for k, v in labels)),
    ):
        if value:
            text.append(f"{label:<12}", style="bold")
            text.append(f"{value}\n")
    return text
