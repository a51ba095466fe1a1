"""``network ls``: docker's columns, filters and ``--format`` fields.

Filters are docker's: ``name`` (a pattern searched in the name), ``id`` (a
prefix), ``label`` (``KEY`` or ``KEY=VALUE``), ``driver`` and ``type``
(``builtin`` for the default network, ``custom`` for the others); values of
one key are ORed, keys ANDed.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from servin_core.errors import InvalidArgument
from servin_tui.cli.command import Command, Session
from servin_tui.cli.output import Column, print_rows

if TYPE_CHECKING:
    from servin_core.network.model import Network

__all__ = ["LS", "matches", "network_row", "parse_filters"]

_FILTER_KEYS = ("name", "id", "label", "driver", "type")
_COLUMNS: list[Column] = [
    ("ID", "NETWORK ID"),
    ("Name", "NAME"),
    ("Driver", "DRIVER"),
    ("Scope", "SCOPE"),
]


def parse_filters(texts: Iterable[str]) -> dict[str, list[str]]:
    filters: dict[str, list[str]] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep:
            raise InvalidArgument("filter", text, "expected KEY=VALUE")
        if key not in _FILTER_KEYS:
            raise InvalidArgument(
                "filter",
                text,
                f"unsupported filter {key!r} ({', '.join(_FILTER_KEYS)})",
            )
        if key == "type" and value not in ("builtin", "custom"):
            raise InvalidArgument("filter", text, "type is builtin or custom")
        if key == "name":
            try:
                re.compile(value)
            except re.error as e:
                raise InvalidArgument("filter", text, f"bad pattern: {e}") from None
        filters.setdefault(key, []).append(value)
    return filters


def _match(key: str, value: str, network: Network) -> bool:
    from servin_core.network.model import DEFAULT_NETWORK

    if key == "name":
        return re.search(value, network.name) is not None
    if key == "id":
        return network.id.startswith(value)
    if key == "label":
        name, sep, wanted = value.partition("=")
        labels = network.labels
        return name in labels and (not sep or labels[name] == wanted)
    if key == "type":
        return (network.name == DEFAULT_NETWORK) is (value == "builtin")
    return network.driver == value


def matches(filters: dict[str, list[str]], network: Network) -> bool:
    return all(
        any(_match(key, value, network) for value in values)
        for key, values in filters.items()
    )


def network_row(network: Network, *, no_trunc: bool = False) -> dict[str, Any]:
    """docker's listing row (its ``--format`` field names)."""
    import time

    labels = network.labels
    return {
        "CreatedAt": time.strftime(
            "%Y-%m-%d %H:%M:%S +0000 UTC", time.gmtime(network.created)
        ),
        "Driver": network.driver,
        "ID": network.id if no_trunc else network.short_id,
        "IPv6": "false",
        "Internal": str(network.internal).lower(),
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Name": network.name,
        "Scope": "local",
    }


def _configure_ls(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("-q", "--quiet", action="store_true", help="only show network IDs")
    add("--no-trunc", action="store_true", help="full network IDs")
    add(
        "-f",
        "--filter",
        action="append",
        default=[],
        metavar="FILTER",
        help=f"KEY=VALUE, KEY one of {', '.join(_FILTER_KEYS)} (repeatable)",
    )
    add("--format", metavar="FORMAT", help="'json', or a Go template ('table ...')")


# TODO: docker also lists its ``host`` and ``none`` pseudo-networks; here
# they are only --network modes, with no row to list.
async def _run_ls(session: Session, args: argparse.Namespace) -> int:
    from servin_core.network.manage import ensure_default

    filters = parse_filters(args.filter)
    core = session.core()
    ensure_default(core)
    networks = [n for n in core.networks.list() if matches(filters, n)]
    if args.quiet:
        for network in networks:
            session.out(network.id if args.no_trunc else network.short_id)
        return 0
    rows = [network_row(n, no_trunc=args.no_trunc) for n in networks]
    print_rows(session.stdout, rows, _COLUMNS, args.format)
    return 0


LS = Command(None, (), "list networks", _configure_ls, _run_ls)
