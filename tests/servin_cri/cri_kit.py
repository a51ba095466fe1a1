"""Helpers for the CRI tests: the running server and its client."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from servin_core.core import Core
from servin_cri.pb import api_pb2_grpc
from servin_cri.server import CriServer


@dataclass
class Cri:
    """A running server and a client of it."""

    server: CriServer
    core: Core
    runtime: api_pb2_grpc.RuntimeServiceStub
    images: api_pb2_grpc.ImageServiceStub
    cni_dir: Path


StartCri = Callable[..., Awaitable[Cri]]
