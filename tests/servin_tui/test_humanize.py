"""Sizes and ages print as docker prints them."""

from __future__ import annotations

from servin_tui.cli.humanize import (
    go_time,
    human_age,
    human_duration,
    human_size,
    parse_time,
)


def test_sizes_use_decimal_units_and_three_digits() -> None:
    assert human_size(0) == "0B"
    assert human_size(999) == "999B"
    assert human_size(1000) == "1kB"
    assert human_size(1_200_000) == "1.2MB"
    assert human_size(4_261_550) == "4.26MB"
    assert human_size(77_800_000) == "77.8MB"
    assert human_size(1_530_000_000) == "1.53GB"


def test_durations_follow_dockers_steps() -> None:
    minute, hour, day = 60, 3600, 86400

    assert human_duration(0.4) == "Less than a second"
    assert human_duration(1) == "1 second"
    assert human_duration(59) == "59 seconds"
    assert human_duration(minute) == "About a minute"
    assert human_duration(2 * minute) == "2 minutes"
    assert human_duration(59 * minute) == "59 minutes"
    assert human_duration(hour) == "About an hour"
    assert human_duration(90 * minute) == "2 hours"
    assert human_duration(47 * hour) == "47 hours"
    assert human_duration(3 * day) == "3 days"
    assert human_duration(20 * day) == "2 weeks"
    assert human_duration(90 * day) == "3 months"
    assert human_duration(800 * day) == "2 years"


def test_ages_and_unknown_times() -> None:
    assert human_age(1000.0, now=1120.0) == "2 minutes ago"
    assert human_age(None) == "N/A"
    assert human_age(0) == "N/A"


def test_rfc3339_with_nanoseconds_parses() -> None:
    assert parse_time("2024-01-17T21:49:12.123456789Z") == 1705528152.123456
    assert parse_time("2024-01-17T21:49:12Z") == 1705528152.0
    assert parse_time("2024-01-17T22:49:12+01:00") == 1705528152.0
    assert parse_time("yesterday") is None
    assert parse_time(None) is None


def test_go_time_shape() -> None:
    text = go_time(1705528152.0)

    date, clock, offset, zone = text.split(" ")
    assert len(date) == 10 and len(clock) == 8
    assert offset[0] in "+-" and len(offset) == 5
    assert zone
