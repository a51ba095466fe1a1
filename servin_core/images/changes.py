"""Docker's ``--change`` instructions, turned into an image config's ``config``.

``docker import --change 'CMD ["sh"]'`` takes Dockerfile lines that set
metadata only. Each is applied in order to a dict of the OCI image config's
``config`` object, so a later ``ENV A=2`` replaces an earlier ``ENV A=1``.
Instructions that an OCI config cannot hold (``ONBUILD``, ``HEALTHCHECK``)
and unknown ones are refused rather than dropped: a user who asked for them
would otherwise get an image that silently lacks them.
"""

from __future__ import annotations

import json
import posixpath
import re
import shlex
from collections.abc import Callable, Sequence
from typing import Any

from servin_core.errors import InvalidArgument

__all__ = ["apply_changes"]

_PROTOCOLS = ("tcp", "udp", "sctp")
_SIGNAL = re.compile(r"(?:SIG)?[A-Z][A-Z0-9+-]*|[0-9]+")

Config = dict[str, Any]


def apply_changes(changes: Sequence[str], config: Config | None = None) -> Config:
    """``config`` (a fresh dict when None) with every change applied."""
    result: Config = dict(config or {})
    for change in changes:
        words = change.split(None, 1)
        keyword = words[0].upper() if words else ""
        args = words[1].strip() if len(words) > 1 else ""
        if keyword in _REFUSED:
            raise InvalidArgument("change", change, _REFUSED[keyword])
        handler = _HANDLERS.get(keyword)
        if handler is None:
            known = ", ".join(sorted(_HANDLERS))
            raise InvalidArgument(
                "change", change, f"unknown instruction {keyword!r} (known: {known})"
            )
        if not args:
            raise InvalidArgument("change", change, f"{keyword} needs an argument")
        handler(result, args, change)
    return result


def _json_array(args: str) -> list[str] | None:
    """The exec form ``["a", "b"]``, or None when ``args`` is not one."""
    if not args.startswith("["):
        return None
    try:
        value = json.loads(args)
    except ValueError:
        return None  # docker, too, runs a malformed array as a shell command
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _command(args: str) -> list[str]:
    exec_form = _json_array(args)
    return exec_form if exec_form is not None else ["/bin/sh", "-c", args]


def _cmd(config: Config, args: str, change: str) -> None:
    config["Cmd"] = _command(args)


def _entrypoint(config: Config, args: str, change: str) -> None:
    config["Entrypoint"] = _command(args)


def _pairs(args: str, change: str, *, legacy: bool) -> list[tuple[str, str]]:
    """``k=v k2="v 2"`` pairs; with ``legacy``, also ``KEY value with spaces``."""
    try:
        words = shlex.split(args)
    except ValueError as e:
        raise InvalidArgument("change", change, f"bad quoting: {e}") from e
    if legacy and words and "=" not in words[0]:
        key, *rest = args.split(None, 1)
        if not rest:
            raise InvalidArgument("change", change, f"no value for {key!r}")
        return [(key, rest[0].strip())]
    pairs = []
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            raise InvalidArgument("change", change, f"expected key=value, got {word!r}")
        pairs.append((key, value))
    return pairs


def _env(config: Config, args: str, change: str) -> None:
    # TODO: $VAR references are kept literally; docker expands them against
    # the variables set so far, which needs its shell-word expansion rules.
    env: list[str] = list(config.get("Env") or [])
    for key, value in _pairs(args, change, legacy=True):
        env = [item for item in env if item.partition("=")[0] != key]
        env.append(f"{key}={value}")
    config["Env"] = env


def _label(config: Config, args: str, change: str) -> None:
    labels: dict[str, str] = dict(config.get("Labels") or {})
    labels.update(_pairs(args, change, legacy=True))
    config["Labels"] = labels


def _expose(config: Config, args: str, change: str) -> None:
    ports: dict[str, Any] = dict(config.get("ExposedPorts") or {})
    for word in args.split():
        ports.update({port: {} for port in _ports(word, change)})
    config["ExposedPorts"] = ports


def _ports(word: str, change: str) -> list[str]:
    """``80``, ``53/udp`` or ``8000-8002/tcp`` as ``["8000/tcp", ...]``."""
    spec, _, protocol = word.partition("/")
    protocol = (protocol or "tcp").lower()
    if protocol not in _PROTOCOLS:
        raise InvalidArgument("change", change, f"unknown protocol in {word!r}")
    first, _, last = spec.partition("-")
    try:
        low, high = int(first), int(last or first)
    except ValueError:
        raise InvalidArgument("change", change, f"invalid port {word!r}") from None
    if not 1 <= low <= high <= 65535:
        raise InvalidArgument("change", change, f"invalid port range {word!r}")
    return [f"{port}/{protocol}" for port in range(low, high + 1)]


def _user(config: Config, args: str, change: str) -> None:
    config["User"] = args


def _volume(config: Config, args: str, change: str) -> None:
    paths = _json_array(args) or args.split()
    volumes: dict[str, Any] = dict(config.get("Volumes") or {})
    for path in paths:
        if not path.strip():
            raise InvalidArgument("change", change, "empty volume path")
        volumes[path] = {}
    config["Volumes"] = volumes


def _workdir(config: Config, args: str, change: str) -> None:
    # A relative directory continues the previous one, as in a Dockerfile.
    base = config.get("WorkingDir") or "/"
    config["WorkingDir"] = posixpath.normpath(posixpath.join(base, args))


def _stopsignal(config: Config, args: str, change: str) -> None:
    if not _SIGNAL.fullmatch(args):
        raise InvalidArgument("change", change, f"invalid signal {args!r}")
    config["StopSignal"] = args


_HANDLERS: dict[str, Callable[[Config, str, str], None]] = {
    "CMD": _cmd,
    "ENTRYPOINT": _entrypoint,
    "ENV": _env,
    "EXPOSE": _expose,
    "LABEL": _label,
    "STOPSIGNAL": _stopsignal,
    "USER": _user,
    "VOLUME": _volume,
    "WORKDIR": _workdir,
}

_REFUSED = {
    "ONBUILD": "ONBUILD triggers cannot be stored in an OCI image config",
    "HEALTHCHECK": "HEALTHCHECK cannot be stored in an OCI image config",
}
