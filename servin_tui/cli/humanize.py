"""Sizes and ages written the way docker writes them.

Scripts and eyes trained on docker read "4.26MB" and "2 months ago"; the
thresholds below reproduce docker's so both print the same words for the
same image.
"""

from __future__ import annotations

import time
from datetime import datetime

__all__ = ["go_time", "human_age", "human_duration", "human_size", "parse_time"]

_SIZE_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def human_size(size: float) -> str:
    """Decimal units with three significant digits: ``1.2MB``, ``4.26MB``."""
    value = float(size)
    unit = 0
    while value >= 1000 and unit < len(_SIZE_UNITS) - 1:
        value /= 1000
        unit += 1
    return f"{value:.3g}{_SIZE_UNITS[unit]}"


def human_duration(seconds: float) -> str:
    """A rough length of time: ``About a minute``, ``3 days``, ``2 years``."""
    whole = int(seconds)
    if whole < 1:
        return "Less than a second"
    if whole == 1:
        return "1 second"
    if whole < 60:
        return f"{whole} seconds"

    minutes = whole // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"

    # Hours are rounded, not truncated, from here on.
    hours = int(seconds / 3600 + 0.5)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds / 3600) // 24 // 365} years"


def human_age(timestamp: float | None, now: float | None = None) -> str:
    """``2 minutes ago`` for a Unix time, ``N/A`` when it is unknown."""
    if timestamp is None or timestamp <= 0:
        return "N/A"
    now = time.time() if now is None else now
    return f"{human_duration(max(0.0, now - timestamp))} ago"


def parse_time(text: str | None) -> float | None:
    """A Unix time from an RFC 3339 string such as images carry, or None.

    Go writes nanoseconds; Python parses at most microseconds, so the
    fraction is cut to six digits first.
    """
    if not text:
        return None
    main, dot, rest = text.partition(".")
    if dot:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        rest = rest[:6] + rest[digits:] if digits > 6 else rest
        text = f"{main}.{rest}"
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def go_time(timestamp: float) -> str:
    """A time as Go's ``time.Time.String`` prints it, in local time:
    ``2024-01-17 21:49:12 +0000 UTC``."""
    moment = datetime.fromtimestamp(timestamp).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S %z %Z")
