"""The throwaway docker-registry the benchmark pulls from: the test suite's
own launcher (tests/registry_server.py, standard library only), started
quiet so that no access log line is written while the tools are timed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

__all__ = ["REGISTRY_BINARY", "start_registry"]

_LAUNCHER = Path(__file__).resolve().parents[2] / "tests" / "registry_server.py"

# Loaded by path: tests/ is not a package, and putting it on sys.path would
# let its modules (tests/servin_core...) shadow the real ones.
_spec = importlib.util.spec_from_file_location("_bench_registry_server", _LAUNCHER)
if _spec is None or _spec.loader is None:
    raise RuntimeError(f"cannot load {_LAUNCHER}")
_server = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _server  # its dataclass looks itself up there
_spec.loader.exec_module(_server)

REGISTRY_BINARY: str = _server.REGISTRY_BINARY


def start_registry(workdir: Path) -> Any:
    """A running registry (``.host``, ``.stop()``) with storage under ``workdir``."""
    return _server.start_registry(workdir, quiet=True)
