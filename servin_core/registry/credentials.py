"""Registry credentials: Servin's own store, then docker's config.json.

Servin keeps logins in ``DATA_DIR/auth.json``, in the shape docker uses
(``{"auths": {"host": {"auth": base64("user:password")}}}``), readable only
by its owner and replaced atomically so that a crash never leaves half a
file. When Servin has no login for a registry, docker's own file is read
(``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``), so that an
existing ``docker login`` keeps working. Docker Hub is keyed as docker keys
it, ``https://index.docker.io/v1/``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servin_core import log
from servin_core.config import Config
from servin_core.errors import InvalidArgument, NotFound
from servin_core.images.reference import DEFAULT_REGISTRY
from servin_core.registry.auth import Credentials

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "DOCKER_HUB_KEY",
    "docker_config_path",
    "given",
    "login",
    "logout",
    "lookup",
    "normalize_server",
    "store_path",
]

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")


def normalize_server(server: str) -> str:
    """The registry name for ``server``: no scheme, no path, Hub as docker.io."""
    host = server.strip().split("://", 1)[-1].split("/", 1)[0].lower()
    if not host:
        return DEFAULT_REGISTRY
    return DEFAULT_REGISTRY if host in _DOCKER_HUB_ALIASES else host


def _key(server: str) -> str:
    registry = normalize_server(server)
    return DOCKER_HUB_KEY if registry == DEFAULT_REGISTRY else registry


def store_path(config: Config) -> Path:
    return config.data_dir / "auth.json"


def docker_config_path() -> Path:
    directory = os.environ.get("DOCKER_CONFIG")
    base = Path(directory) if directory else Path.home() / ".docker"
    return base / "config.json"


def _read_auths(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        log.registry.warning("ignoring unreadable credentials file %s: %s", path, e)
        return {}
    auths = data.get("auths") if isinstance(data, dict) else None
    return auths if isinstance(auths, dict) else {}


def _decode(entry: Any) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    if entry.get("auth"):
        try:
            raw = base64.b64decode(entry["auth"], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError, TypeError):
            return None
        username, sep, password = raw.partition(":")
        return Credentials(username, password) if sep else None
    if entry.get("username") and entry.get("password"):
        return Credentials(str(entry["username"]), str(entry["password"]))
    return None


_GIVEN: ContextVar[tuple[str, Credentials] | None] = ContextVar(
    "servin_given_credentials", default=None
)


@contextlib.contextmanager
def given(server: str, credentials: Credentials) -> Iterator[None]:
    """Use ``credentials`` for ``server`` within this context (and the tasks
    it starts), before any stored login: the Engine API's clients send
    theirs with each pull or push (``X-Registry-Auth``)."""
    token = _GIVEN.set((normalize_server(server), credentials))
    try:
        yield
    finally:
        _GIVEN.reset(token)


def lookup(config: Config, server: str) -> Credentials | None:
    """Credentials for ``server`` (a registry name or host), if any are known."""
    registry = normalize_server(server)
    request = _GIVEN.get()
    if request is not None and request[0] == registry:
        return request[1]
    # TODO: docker's credsStore and credHelpers (external helper programs)
    # are not consulted; only inline "auth" entries are read.
    for path in (store_path(config), docker_config_path()):
        for key, entry in _read_auths(path).items():
            if normalize_server(key) == registry and (found := _decode(entry)):
                return found
    return None


@contextlib.contextmanager
def _locked_store(config: Config) -> Iterator[dict[str, Any]]:
    """The store's ``auths`` under a file lock; written back atomically."""
    path = store_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name("auth.json.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        auths = _read_auths(path)
        yield auths
        temp = path.with_name(f".auth.json.{os.getpid()}")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"auths": auths}, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temp, 0o600)
        os.replace(temp, path)


def store(config: Config, server: str, credentials: Credentials) -> None:
    """Remember ``credentials`` for ``server`` in Servin's own store."""
    raw = f"{credentials.username}:{credentials.password}".encode()
    with _locked_store(config) as auths:
        for key in [
            k for k in auths if normalize_server(k) == normalize_server(server)
        ]:
            del auths[key]
        auths[_key(server)] = {"auth": base64.b64encode(raw).decode()}


async def login(core: Core, server: str, username: str, password: str) -> None:
    """Check the credentials against the registry, then store them.

    PermissionDenied if the registry refuses them, Unavailable if it cannot
    be reached; nothing is stored in either case.
    """
    from servin_core.registry.client import RegistryClient

    if not username or ":" in username:
        raise InvalidArgument("login", server, "user name empty or containing ':'")
    credentials = Credentials(username, password)
    registry = normalize_server(server)
    async with RegistryClient(core.config) as client:
        await client.check_credentials(registry, credentials)
    store(core.config, registry, credentials)
    log.for_object(log.registry, "registry", registry).info("logged in as %s", username)


def logout(core: Core, server: str) -> None:
    """Forget Servin's stored credentials for ``server``; NotFound if none."""
    registry = normalize_server(server)
    with _locked_store(core.config) as auths:
        keys = [k for k in auths if normalize_server(k) == registry]
        for key in keys:
            del auths[key]
    if not keys:
        raise NotFound("login", registry, "not logged in to this registry")
