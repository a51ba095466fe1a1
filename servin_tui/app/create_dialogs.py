"""Create a volume, create a network: ``volume create`` and ``network
create`` as forms.

Values are checked the way the CLI checks them (its ``KEY=VALUE`` parser for
labels and options; names, subnets and addresses as the core reads them),
each bad one written under its field. What only the core can judge (a
subnet that overlaps another network, a name taken) comes back as its
error, in the dialog's status line. Each dialog returns the new name.
"""

from __future__ import annotations

import ipaddress
import shlex
from functools import partial
from typing import Any

from servin_core.errors import InvalidArgument, ServinError
from servin_tui.app.backend import Backend
from servin_tui.app.form_dialog import Field, FormDialog
from servin_tui.cli.volumes import parse_pairs

__all__ = ["NetworkDialog", "VolumeDialog"]

_YES = {"yes": True, "y": True, "true": True, "no": False, "n": False, "false": False}


class VolumeDialog(FormDialog):
    """Creates a local volume."""

    HEADING = "Create a volume"
    GO = "Create"
    FIELDS = (
        Field("name", "Name", "empty: a generated name"),
        Field("options", "Options", "type=tmpfs device=tmpfs o=size=64m"),
        Field("labels", "Labels", "KEY=VALUE KEY2='two words'"),
    )

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def check(self, values: dict[str, str]) -> tuple[Any, dict[str, str]]:
        from servin_core.volumes.model import check_volume_name

        errors: dict[str, str] = {}
        name = values["name"].strip() or None
        if name is not None:
            _checked(errors, "name", lambda: check_volume_name(name))
        options = _checked(
            errors, "options", lambda: _pairs("--opt", values["options"])
        )
        labels = _checked(errors, "labels", lambda: _pairs("--label", values["labels"]))
        return (name, options, labels), errors

    async def perform(self, request: tuple[str | None, Any, Any]) -> None:
        name, options, labels = request
        self.status("Creating…")
        try:
            volume = await self.backend.create_volume(
                name, labels=labels, options=options
            )
        except ServinError as e:
            self.failed(e, "volume create")
            return
        self.app.notify(f"volume created: {volume.name}", title="Volumes")
        self.dismiss(volume.name)


class NetworkDialog(FormDialog):
    """Creates a bridge network."""

    HEADING = "Create a network"
    GO = "Create"
    FIELDS = (
        Field("name", "Name", "backend"),
        Field("subnet", "Subnet", "empty: a free /24; 10.89.5.0/24"),
        Field("gateway", "Gateway", "empty: the subnet's first address"),
        Field("internal", "Internal", "no (yes: no traffic out of the network)"),
        Field("labels", "Labels", "KEY=VALUE KEY2='two words'"),
    )

    def __init__(self, backend: Backend) -> None:
        super().__init__()
        self.backend = backend

    def check(self, values: dict[str, str]) -> tuple[Any, dict[str, str]]:
        errors: dict[str, str] = {}
        name = values["name"].strip()
        if not name:
            errors["name"] = "a network needs a name"
        subnet = values["subnet"].strip() or None
        if subnet is not None:
            _checked(errors, "subnet", lambda: ipaddress.ip_network(subnet))
        gateway = values["gateway"].strip() or None
        if gateway is not None:
            _checked(errors, "gateway", lambda: ipaddress.ip_address(gateway))
        internal = _YES.get(values["internal"].strip().lower() or "no")
        if internal is None:
            errors["internal"] = f"{values['internal']!r}: answer yes or no"
        labels = _checked(
            errors, "labels", partial(_pairs, "--label", values["labels"])
        )
        request = dict(
            subnet=subnet, gateway=gateway, internal=bool(internal), labels=labels
        )
        return (name, request), errors

    async def perform(self, request: tuple[str, dict[str, Any]]) -> None:
        name, options = request
        self.status("Creating…")
        try:
            network = await self.backend.create_network(name, **options)
        except ServinError as e:
            self.failed(e, "network create")
            return
        self.app.notify(f"network created: {network.name}", title="Networks")
        self.dismiss(network.name)


def _pairs(flag: str, text: str) -> dict[str, str]:
    """``KEY=VALUE`` words, split as a shell would, read as the CLI's flag."""
    try:
        words = shlex.split(text)
    except ValueError as e:
        raise InvalidArgument(flag, text, str(e)) from None
    return parse_pairs(flag, words, need_value=flag != "--label")


def _checked(errors: dict[str, str], key: str, read: Any) -> Any:
    """``read()``, or None with its error noted under ``key``."""
    try:
        return read()
    except ServinError as e:
        errors[key] = str(e)
    except ValueError as e:  # ipaddress
        errors[key] = f"{key}: {e}"
    return None
