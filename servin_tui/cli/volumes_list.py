"""``volume ls``: docker's columns, filters and ``--format`` fields.

Filters are docker's: ``name`` (a pattern searched in the name), ``label``
(``KEY`` or ``KEY=VALUE``), ``dangling`` (``true``: used by no container)
and ``driver``; values of one key are ORed, keys ANDed.
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
    from servin_core.volumes.model import Volume

__all__ = ["LS", "matches", "parse_filters", "volume_row"]

_FILTER_KEYS = ("name", "label", "dangling", "driver")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_COLUMNS: list[Column] = [("Driver", "DRIVER"), ("Name", "VOLUME NAME")]


def parse_filters(texts: Iterable[str]) -> dict[str, list[str]]:
    """``KEY=VALUE`` texts, checked as docker checks them."""
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
        if key == "dangling" and value.lower() not in _BOOLEANS:
            raise InvalidArgument("filter", text, "dangling is true or false")
        if key == "name":
            try:
                re.compile(value)
            except re.error as e:
                raise InvalidArgument("filter", text, f"bad pattern: {e}") from None
        filters.setdefault(key, []).append(value)
    return filters


def matches(filters: dict[str, list[str]], volume: Volume, used: set[str]) -> bool:
    return all(
        any(_match(key, value, volume, used) for value in values)
        for key, values in filters.items()
    )


def _match(key: str, value: str, volume: Volume, used: set[str]) -> bool:
    if key == "name":
        return re.search(value, volume.name) is not None
    if key == "label":
        name, sep, wanted = value.partition("=")
        return name in volume.labels and (not sep or volume.labels[name] == wanted)
    if key == "dangling":
        return (volume.name not in used) is _BOOLEANS[value.lower()]
    return volume.driver == value


def volume_row(volume: Volume, mountpoint: str) -> dict[str, Any]:
    """docker's listing row (its ``--format`` field names)."""
    labels = volume.labels
    return {
        "Availability": "N/A",
        "Driver": volume.driver,
        "Group": "N/A",
        "Labels": ",".join(f"{k}={v}" for k, v in sorted(labels.items())),
        "Links": "N/A",
        "Mountpoint": mountpoint,
        "Name": volume.name,
        "Scope": "local",
        "Size": "N/A",
        "Status": "N/A",
    }


def _configure_ls(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("-q", "--quiet", action="store_true", help="only show volume names")
    add(
        "-f",
        "--filter",
        action="append",
        default=[],
        metavar="FILTER",
        help=f"KEY=VALUE, KEY one of {', '.join(_FILTER_KEYS)} (repeatable)",
    )
    add("--format", metavar="FORMAT", help="'json', or a Go template ('table ...')")


async def _run_ls(session: Session, args: argparse.Namespace) -> int:
    from servin_core.volumes.operations import driver_of, list_volumes, store_of

    filters = parse_filters(args.filter)
    core = session.core()
    used = store_of(core).used()
    volumes = [v for v in list_volumes(core) if matches(filters, v, used)]

    if args.quiet:
        for volume in volumes:
            session.out(volume.name)
        return 0
    driver = driver_of(core)
    rows = [volume_row(v, str(driver.data(v.name))) for v in volumes]
    print_rows(session.stdout, rows, _COLUMNS, args.format)
    return 0


LS = Command(None, (), "list volumes", _configure_ls, _run_ls)
