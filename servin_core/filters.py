"""docker's filter values, read once for every front end: labels, times, and
what a prune removes.

A prune of containers, images, networks or volumes takes a PruneFilter: the
Engine API builds it from its ``filters`` query, the CLI from its
``--filter KEY=VALUE`` flags, both through :func:`prune_filter`, which checks
every key and value first. A bad one is an InvalidArgument naming the
filter, so nothing is removed on a filter the prune would misread.
"""

from __future__ import annotations

import re
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument

__all__ = [
    "PruneFilter",
    "before_time",
    "filter_flag",
    "labels_match",
    "parse_time",
    "prune_filter",
]

_DURATION_RE = re.compile(r"(?:\d+(?:\.\d+)?(?:h|m|s|ms))+")
_DURATION_PART_RE = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def parse_time(value: str, name: str) -> float | None:
    """docker's ``since``/``until``: seconds (with a fraction), or RFC 3339
    (nanoseconds allowed); None for an empty value."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    stamp = value.replace("Z", "+00:00")
    head, dot, rest = stamp.partition(".")
    if dot:
        # Python reads microseconds at most: cut what is finer.
        digits = len(rest) - len(rest.lstrip("0123456789"))
        stamp = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    try:
        return datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        raise InvalidArgument(
            "parameter", name, f"{value!r} is neither a timestamp nor RFC 3339"
        ) from None


def before_time(value: str, name: str) -> float:
    """A prune's ``until``: a time (:func:`parse_time`) or a duration before
    now (``24h``, ``1h30m``, ``90s``), as seconds since the epoch."""
    if _DURATION_RE.fullmatch(value):
        parts = _DURATION_PART_RE.findall(value)
        return time.time() - sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    try:
        when = parse_time(value, name)
    except InvalidArgument:
        when = None
    if when is None:
        raise InvalidArgument(
            "filter", name, f"{value!r} is neither a time nor a duration such as 24h"
        )
    return when


def labels_match(labels: Mapping[str, str], wanted: Iterable[str]) -> bool:
    """docker's ``label`` filter: every ``key`` or ``key=value`` holds."""
    for item in wanted:
        key, sep, value = item.partition("=")
        if key not in labels or (sep and labels[key] != value):
            return False
    return True


@dataclass(frozen=True, slots=True)
class PruneFilter:
    """Which of the unused objects a prune removes; the default, all."""

    labels: tuple[str, ...] = ()
    """``key`` or ``key=value`` items that must all hold (``label``)."""
    unwanted: tuple[str, ...] = ()
    """Items that keep an object when they all hold (``label!``, read as
    docker's daemon reads it)."""
    created_before: float | None = None
    """Seconds since the epoch: only what was created earlier (``until``)."""

    @property
    def reads_labels(self) -> bool:
        """Whether :meth:`selects` looks at labels (an image's cost a read)."""
        return bool(self.labels or self.unwanted)

    def selects(self, labels: Mapping[str, str], created: float) -> bool:
        if self.labels and not labels_match(labels, self.labels):
            return False
        if self.unwanted and labels_match(labels, self.unwanted):
            return False
        return self.created_before is None or created < self.created_before


def prune_filter(
    filters: Mapping[str, Sequence[str]],
    kind: str,
    *,
    until: bool = True,
    extra: Collection[str] = (),
) -> PruneFilter:
    """The PruneFilter of docker's filter map for ``kind`` (``image prune``).

    ``extra`` names the keys the caller reads itself (``dangling``, ``all``);
    any other key but ``label``, ``label!`` and (when ``until``) ``until`` is
    an InvalidArgument naming it, as is a time that does not parse.
    """
    known = {"label", "label!", *extra} | ({"until"} if until else set())
    for key in sorted(set(filters) - known):
        reason = f"not supported for {kind}"
        if key == "until":
            reason += " (docker has no until filter for it)"
        raise InvalidArgument("filter", key, reason)

    times = filters.get("until", ())
    if len(times) > 1:
        raise InvalidArgument("filter", "until", "given more than once")
    for key in ("label", "label!"):
        for item in filters.get(key, ()):
            if not item.partition("=")[0]:
                raise InvalidArgument("filter", key, f"{item!r} names no label")
    return PruneFilter(
        labels=tuple(filters.get("label", ())),
        unwanted=tuple(filters.get("label!", ())),
        created_before=before_time(times[0], "until") if times else None,
    )


def filter_flag(filters: Mapping[str, Sequence[str]], key: str, default: bool) -> bool:
    """A boolean filter (``dangling``, ``all``): ``true``, ``1``, ``false``
    or ``0``; anything else, or both answers, is an InvalidArgument."""
    answers = set()
    for value in filters.get(key, ()):
        answer = _BOOLEANS.get(value.lower())
        if answer is None:
            raise InvalidArgument("filter", key, f"{value!r} is not true or false")
        answers.add(answer)
    if len(answers) > 1:
        raise InvalidArgument("filter", key, "both true and false given")
    return answers.pop() if answers else default
