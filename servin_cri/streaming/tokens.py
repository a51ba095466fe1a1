"""Single-use tokens that stand for a streaming request.

Exec, Attach and PortForward answer kubelet with a URL; the token in it
names the request until a client uses it once, or for a minute, as
kubelet's own cache does. The clock is passed in, so expiry can be
checked without waiting.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from servin_core._dataclass import dataclass
from servin_core.errors import Unavailable

__all__ = ["TOKEN_TTL", "Pending", "TokenCache"]

TOKEN_TTL = 60.0
_MAX_PENDING = 1000
"""Requests not yet used at once; more are refused until some expire."""


@dataclass(frozen=True, slots=True)
class Pending:
    """A request waiting for its client: ``kind`` is "exec", "attach" or
    "portforward", ``request`` the CRI message."""

    kind: str
    request: Any
    expires: float


class TokenCache:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._pending: OrderedDict[str, Pending] = OrderedDict()

    def insert(self, kind: str, request: Any) -> str:
        """A fresh token for ``request``; Unavailable when too many wait."""
        self._forget_expired()
        if len(self._pending) >= _MAX_PENDING:
            raise Unavailable(
                "streaming server",
                kind,
                f"{_MAX_PENDING} requests already wait for their clients",
            )
        token = secrets.token_urlsafe(12)
        self._pending[token] = Pending(kind, request, self.clock() + TOKEN_TTL)
        return token

    def consume(self, kind: str, token: str) -> Pending | None:
        """The request ``token`` names, once; None if unknown, used,
        expired or of another kind."""
        self._forget_expired()
        pending = self._pending.get(token)
        if pending is None or pending.kind != kind:
            return None
        del self._pending[token]
        return pending

    def _forget_expired(self) -> None:
        now = self.clock()
        # Tokens are kept in the order they were made, so in expiry order.
        while self._pending:
            token, oldest = next(iter(self._pending.items()))
            if oldest.expires > now:
                return
            del self._pending[token]
