"""Registry authentication: the WWW-Authenticate challenge, basic and bearer.

A registry says how it wants to be addressed in the ``WWW-Authenticate``
header of a 401: ``Basic realm=...`` wants the credentials on every request;
``Bearer realm=URL,service=S`` wants a token fetched from URL for the scopes
an operation needs (``repository:NAME:pull,push``), sent with the credentials
if there are any, anonymously otherwise. Tokens are cached per set of scopes
until shortly before they expire.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time

import aiohttp

from servin_core import log
from servin_core._dataclass import dataclass, field
from servin_core.errors import PermissionDenied, Unavailable

__all__ = ["Authenticator", "Challenge", "Credentials", "parse_challenges"]

_PARAM_RE = re.compile(
    r'\s*([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)'
)
_SCHEME_RE = re.compile(r"\s*,?\s*([A-Za-z][A-Za-z0-9_.-]*)(?:\s+|$)")
_DEFAULT_TOKEN_LIFETIME = 60
_TOKEN_MARGIN = 10


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str
    registry_token: str = ""
    """A bearer token to send as it is (a CRI pull's, from kubelet), instead
    of asking the realm for one with the username and password."""

    def basic_header(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


@dataclass(frozen=True)
class Challenge:
    """One challenge of a WWW-Authenticate header."""

    scheme: str
    """Lower case: ``basic`` or ``bearer``."""
    params: dict[str, str] = field(default_factory=dict)


def parse_challenges(header: str) -> list[Challenge]:
    """The challenges in a WWW-Authenticate header, in order."""
    challenges: list[Challenge] = []
    pos = 0
    while pos < len(header):
        scheme = _SCHEME_RE.match(header, pos)
        if scheme is None:
            break
        pos = scheme.end()
        params: dict[str, str] = {}
        while True:
            param = _PARAM_RE.match(header, pos)
            if param is None:
                break
            quoted, bare = param.group(2), param.group(3)
            value = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare
            params[param.group(1).lower()] = value
            pos = param.end()
        challenges.append(Challenge(scheme.group(1).lower(), params))
    return challenges


class Authenticator:
    """The Authorization header for one registry host, per set of scopes."""

    def __init__(self, host: str, credentials: Credentials | None) -> None:
        self.host = host
        self.credentials = credentials
        self.challenge: Challenge | None = None
        self._tokens: dict[str, tuple[str, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def set_challenge(self, header: str | None) -> bool:
        """Adopt the first supported challenge of ``header``; whether any was."""
        for challenge in parse_challenges(header or ""):
            if challenge.scheme in ("basic", "bearer"):
                self.challenge = challenge
                return True
        return False

    def forget(self, scopes: tuple[str, ...]) -> None:
        self._tokens.pop(" ".join(sorted(scopes)), None)

    async def header(
        self, session: aiohttp.ClientSession, scopes: tuple[str, ...], *, ssl: bool
    ) -> str | None:
        """The Authorization value for a request needing ``scopes``, if any."""
        if self.challenge is None:
            return None
        if self.challenge.scheme == "basic":
            return self.credentials.basic_header() if self.credentials else None
        if self.credentials and self.credentials.registry_token:
            return "Bearer " + self.credentials.registry_token
        key = " ".join(sorted(scopes))
        # Concurrent transfers wait for one fetch instead of each asking.
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._tokens.get(key)
            if cached and cached[1] > time.monotonic():
                return "Bearer " + cached[0]
            token, lifetime = await self.fetch_token(session, scopes, ssl=ssl)
            self._tokens[key] = (token, time.monotonic() + lifetime - _TOKEN_MARGIN)
            return "Bearer " + token

    async def fetch_token(
        self, session: aiohttp.ClientSession, scopes: tuple[str, ...], *, ssl: bool
    ) -> tuple[str, float]:
        """Ask the challenge's realm for a token; returns it and its lifetime."""
        assert self.challenge is not None
        realm = self.challenge.params.get("realm")
        if not realm:
            raise Unavailable("registry", self.host, "bearer challenge without realm")
        query: list[tuple[str, str]] = []
        if "service" in self.challenge.params:
            query.append(("service", self.challenge.params["service"]))
        query += [("scope", scope) for scope in sorted(scopes)]
        headers = {}
        if self.credentials:
            query.append(("account", self.credentials.username))
            headers["Authorization"] = self.credentials.basic_header()
        # TODO: identity tokens (OAuth2 refresh tokens, POST to the realm) are
        # not supported; docker stores them after logins through a browser.
        try:
            async with session.get(
                realm, params=query, headers=headers, ssl=ssl, allow_redirects=False
            ) as response:
                if response.status in (401, 403):
                    raise PermissionDenied(
                        "registry", self.host, self._refusal("the token server")
                    )
                if response.status != 200:
                    raise Unavailable(
                        "registry",
                        self.host,
                        f"token server {realm} answered HTTP {response.status}",
                    )
                body = await response.json(content_type=None)
        except aiohttp.ClientError as e:
            raise Unavailable(
                "registry", self.host, f"token server {realm} unreachable: {e}"
            ) from e
        token = (
            body.get("token") or body.get("access_token")
            if isinstance(body, dict)
            else None
        )
        if not isinstance(token, str) or not token:
            raise Unavailable(
                "registry", self.host, f"token server {realm} gave no token"
            )
        lifetime = body.get("expires_in") or _DEFAULT_TOKEN_LIFETIME
        log.registry.debug("token for %s from %s", " ".join(scopes), realm)
        return token, max(float(lifetime), _TOKEN_MARGIN + 1.0)

    def _refusal(self, who: str) -> str:
        if self.credentials is None:
            return f"{who} requires credentials; log in first"
        return f"{who} rejected the credentials of user {self.credentials.username!r}"

    def refusal(self) -> str:
        """Why a request that carried our best Authorization got a 401."""
        return self._refusal("the registry")
