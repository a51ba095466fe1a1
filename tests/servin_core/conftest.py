"""Fixtures for the core's tests: a Core in a temporary root."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from netconfig import session_config

from servin_core.core import Core


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    with Core.open(session_config(tmp_path / "root")) as c:
        yield c
