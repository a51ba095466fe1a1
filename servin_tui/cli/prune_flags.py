"""``--filter KEY=VALUE`` of the prune commands, as docker's CLI takes it.

The flags become docker's filter map, which the core reads into a
PruneFilter (:func:`servin_core.filters.prune_filter`) as it reads the
Engine API's, so that both faces accept and refuse the same filters.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from servin_core.errors import InvalidArgument

__all__ = ["add_filter_flag", "filter_map"]


def add_filter_flag(parser: argparse.ArgumentParser, keys: str) -> None:
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"only what the filter selects ({keys}); repeatable",
    )


def filter_map(texts: Iterable[str]) -> dict[str, list[str]]:
    """``label=env=test`` as ``{"label": ["env=test"]}``; the key ends at
    the first ``=``, so ``label!=env`` is the key ``label!``."""
    filters: dict[str, list[str]] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key:
            raise InvalidArgument("filter", text, "expected KEY=VALUE")
        filters.setdefault(key, []).append(value)
    return filters
