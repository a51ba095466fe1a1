"""The HTTP side of the Registry API: connections, retries, auth, redirects.

One :class:`RegistryClient` serves one operation (a pull, a push, a login)
and owns one aiohttp session. For each endpoint it first asks ``GET /v2/``,
which tells which scheme works (for insecure endpoints: HTTPS, then HTTP)
and how the registry wants to be authenticated. Every later request carries
the Authorization that fits the scopes it needs; a 401 is answered once by
adopting the new challenge and fetching a fresh token, then it is final.

Connection errors, 5xx and 429 are retried with exponential backoff, a
bounded number of times. Redirects are followed by hand, so that the
Authorization header is dropped when a redirect leaves the registry's host
(blob downloads are often redirected to a storage service).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any

import aiohttp
from yarl import URL

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core.config import Config
from servin_core.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServinError,
    Unavailable,
)
from servin_core.registry import credentials as creds
from servin_core.registry.auth import Authenticator, Credentials
from servin_core.registry.endpoints import Endpoint, push_endpoint

__all__ = ["Body", "RegistryClient", "raise_for_status"]

ATTEMPTS = 4
"""Tries of one request before a transient failure is final."""
BACKOFF = 0.25
"""Seconds before the first retry; doubled for each further one."""
MAX_RETRY_AFTER = 10.0
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
_USER_AGENT = "servin/0.1"

Body = bytes | Callable[[], Any] | None
"""A request body: bytes, or a factory giving a fresh body for each try."""


@dataclass
class _EndpointState:
    base: URL
    ssl: bool
    auth: Authenticator


class RegistryClient:
    """Talks to registries on behalf of one operation; use ``async with``."""

    def __init__(
        self, config: Config, credentials: Mapping[str, Credentials] | None = None
    ) -> None:
        self.config = config
        # Given by the caller for this operation only (a CRI pull's auth),
        # by registry name or host; they come before the stored ones.
        self._given = dict(credentials or {})
        self._session: aiohttp.ClientSession | None = None
        self._states: dict[Endpoint, _EndpointState] = {}
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> RegistryClient:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=300)
        self._session = aiohttp.ClientSession(
            timeout=timeout, headers={"User-Agent": _USER_AGENT}, auto_decompress=False
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "RegistryClient used outside 'async with'"
        return self._session

    async def _state(self, endpoint: Endpoint) -> _EndpointState:
        async with self._lock:
            if endpoint not in self._states:
                self._states[endpoint] = await self._ping(endpoint)
            return self._states[endpoint]

    async def _ping(
        self, endpoint: Endpoint, credentials: Credentials | None = None
    ) -> _EndpointState:
        """Find the scheme that answers ``/v2/`` and the auth challenge."""
        if credentials is None:
            credentials = self._given.get(endpoint.host)
            if credentials is None and not endpoint.mirror:
                credentials = self._given.get(endpoint.registry)
        if credentials is None:
            credentials = creds.lookup(self.config, endpoint.host)
            if credentials is None and not endpoint.mirror:
                credentials = creds.lookup(self.config, endpoint.registry)
        problem = "no answer"
        for attempt in range(ATTEMPTS):
            for scheme in endpoint.schemes:
                ssl = scheme == "https" and endpoint.verify_tls
                base = URL.build(scheme=scheme, authority=endpoint.host)
                try:
                    async with self.session.get(
                        base / "v2/", ssl=ssl, allow_redirects=False
                    ) as response:
                        status = response.status
                        challenge = response.headers.get("WWW-Authenticate")
                except aiohttp.ClientConnectorCertificateError as e:
                    raise Unavailable(
                        "registry", endpoint.host, f"TLS certificate not trusted: {e}"
                    ) from e
                except (aiohttp.ClientError, TimeoutError) as e:
                    problem = str(e) or type(e).__name__
                    continue
                if status in _RETRY_STATUSES:
                    problem = f"HTTP {status} from {base}/v2/"
                    continue
                auth = Authenticator(endpoint.host, credentials)
                if status == 401:
                    auth.set_challenge(challenge)
                log.registry.debug(
                    "%s speaks %s, HTTP %d", endpoint.host, scheme, status
                )
                return _EndpointState(base, ssl, auth)
            if attempt + 1 < ATTEMPTS:
                await asyncio.sleep(BACKOFF * 2**attempt)
        raise Unavailable("registry", endpoint.host, f"unreachable: {problem}")

    @asynccontextmanager
    async def request(
        self,
        endpoint: Endpoint,
        method: str,
        target: str | URL,
        *,
        scopes: tuple[str, ...],
        headers: dict[str, str] | None = None,
        body: Body = None,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send a request and yield its response, whatever its final status.

        ``target`` is a path under the endpoint (``/v2/...``) or an absolute
        URL given by the registry (an upload location).
        """
        state = await self._state(endpoint)
        url = state.base.join(URL(target)) if isinstance(target, str) else target
        retried_auth = False
        attempt = 0
        while True:
            try:
                response = await self._send(state, method, url, scopes, headers, body)
            except (aiohttp.ClientError, TimeoutError) as e:
                if isinstance(e, aiohttp.ClientConnectorCertificateError):
                    raise Unavailable("registry", endpoint.host, str(e)) from e
                attempt += 1
                if attempt >= ATTEMPTS:
                    raise Unavailable(
                        "registry", endpoint.host, f"{method} {url.path} failed: {e}"
                    ) from e
                await asyncio.sleep(BACKOFF * 2 ** (attempt - 1))
                continue
            if response.status == 401 and not retried_auth:
                response.release()
                retried_auth = True
                state.auth.set_challenge(response.headers.get("WWW-Authenticate"))
                state.auth.forget(scopes)
                continue
            if response.status == 401:
                response.release()
                raise PermissionDenied("registry", endpoint.host, state.auth.refusal())
            if response.status in _RETRY_STATUSES and attempt + 1 < ATTEMPTS:
                response.release()
                attempt += 1
                await asyncio.sleep(_retry_delay(response, attempt))
                continue
            break
        try:
            yield response
        finally:
            response.release()

    async def _send(
        self,
        state: _EndpointState,
        method: str,
        url: URL,
        scopes: tuple[str, ...],
        headers: dict[str, str] | None,
        body: Body,
    ) -> aiohttp.ClientResponse:
        authorization = await state.auth.header(self.session, scopes, ssl=state.ssl)
        for _ in range(_MAX_REDIRECTS + 1):
            send_headers = dict(headers or {})
            same_host = url.origin() == state.base.origin()
            if authorization and same_host:
                send_headers["Authorization"] = authorization
            data = body() if callable(body) else body
            response = await self.session.request(
                method,
                url,
                headers=send_headers,
                data=data,
                ssl=state.ssl if same_host else True,
                allow_redirects=False,
            )
            location = response.headers.get("Location")
            redirect = response.status in _REDIRECT_STATUSES and method in (
                "GET",
                "HEAD",
            )
            if not (redirect and location):
                return response
            response.release()
            url = url.join(URL(location))
        raise aiohttp.TooManyRedirects(response.request_info, response.history)

    async def check_credentials(self, registry: str, credentials: Credentials) -> None:
        """PermissionDenied unless ``registry`` accepts ``credentials``."""
        endpoint = push_endpoint(self.config, registry)
        state = await self._ping(endpoint, credentials)
        challenge = state.auth.challenge
        if challenge is None:
            log.registry.info("%s asks for no credentials", endpoint.host)
        elif challenge.scheme == "bearer":
            await state.auth.fetch_token(self.session, (), ssl=state.ssl)
        else:
            self._states[endpoint] = state
            async with self.request(endpoint, "GET", "/v2/", scopes=()) as response:
                await raise_for_status(response, "registry", endpoint.host)


def _retry_delay(response: aiohttp.ClientResponse, attempt: int) -> float:
    """Retry-After (in seconds, bounded) if the registry gave it, else backoff."""
    value = response.headers.get("Retry-After", "")
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    return float(BACKOFF * 2 ** (attempt - 1))


async def raise_for_status(
    response: aiohttp.ClientResponse,
    kind: str,
    ident: str,
    *,
    ok: tuple[int, ...] = (200,),
) -> None:
    """Raise the core's error for a registry's failed answer about ``ident``."""
    if response.status in ok:
        return
    reason = f"HTTP {response.status}{await _error_detail(response)}"
    error: type[ServinError]
    if response.status == 404:
        error = NotFound
    elif response.status in (401, 403):
        error = PermissionDenied
    elif response.status in (400, 413, 415, 416, 422):
        error = InvalidArgument
    else:
        error = Unavailable
    raise error(
        kind, ident, f"registry {response.url.host}:{response.url.port} said {reason}"
    )


async def _error_detail(response: aiohttp.ClientResponse) -> str:
    """The messages of the registry's ``{"errors": [...]}`` body, if any."""
    try:
        body = json.loads(await response.content.read(65536))
        messages = [
            f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
            for e in body.get("errors", [])
        ]
    except (ValueError, AttributeError, TypeError, aiohttp.ClientError):
        return ""
    return f" ({'; '.join(messages)})" if messages else ""
