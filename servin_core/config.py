"""Configuration: a TOML file checked against plain dataclasses, and where
state lives.

As root, state is under /var/lib/servin and the run directory is /run/servin;
as a user, under the XDG data and runtime directories. ``--root DIR`` puts
everything (state, run directory, sockets) under DIR so that isolated
instances can run side by side.

An example file::

    default_runtime = "runc"
    insecure_registries = ["registry.lan:5000"]

    [registries."docker.io"]
    mirrors = ["127.0.0.1:5000"]

Every command loads the configuration, most of them with no file: the
settings are plain dataclasses, checked against their hints only when a
file is read (servin_core/_records.py), so a command pays nothing for them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from servin_core._dataclass import dataclass, field, fields, replace
from servin_core._records import RecordError, bounds, from_data, to_data
from servin_core.errors import InvalidArgument

__all__ = [
    "Config",
    "RegistryConfig",
    "config_from_data",
    "default_config_path",
    "load_config",
]


@dataclass(frozen=True)
class RegistryConfig:
    """Settings for one registry host, keyed by its name (``docker.io``)."""

    mirrors: list[str] = field(default_factory=list)
    """Hosts tried in order before the registry itself, for pulls only."""
    insecure: bool = False
    """Allow plain HTTP and unverified TLS for this host."""


@dataclass(frozen=True)
class Config:
    """The whole configuration; every field has a working default."""

    data_dir: Path = field(default_factory=lambda: _default_dirs()[0])
    run_dir: Path = field(default_factory=lambda: _default_dirs()[1])
    default_runtime: Literal["crun", "runc"] = "crun"
    registries: dict[str, RegistryConfig] = field(default_factory=dict)
    insecure_registries: list[str] = field(default_factory=list)
    max_concurrent_downloads: int = field(default=3, metadata=bounds(1, 32))
    max_concurrent_uploads: int = field(default=5, metadata=bounds(1, 32))
    push_chunk_size: int = field(default=0, metadata=bounds(0))
    """Upload blobs in PATCH chunks of this many bytes; 0 uploads each blob
    in one request."""
    layer_compression_level: int = field(default=1, metadata=bounds(0, 9))
    """gzip level for layers Servin makes itself (import, commit)."""
    default_bridge: str = "servin0"
    """The host bridge of the default network ``servin``."""
    default_network_subnet: str = "10.88.0.0/16"
    """The default network's subnet; separate instances on one host (tests)
    give each its own bridge and subnet."""
    cni_conf_dir: Path = Path("/etc/cni/net.d")
    """Where the CRI finds its pods' CNI network configurations (kubelet's
    nodes keep them here; a bench or test points it at its own)."""

    def with_root(self, root: Path) -> Config:
        """This configuration with every path under ``root``."""
        return replace(self, data_dir=root, run_dir=root / "run")

    def registry(self, host: str) -> RegistryConfig:
        return self.registries.get(host, RegistryConfig())

    def is_insecure(self, host: str) -> bool:
        return host in self.insecure_registries or self.registry(host).insecure

    def settings(self) -> dict[str, Any]:
        """The values that differ from the defaults, as JSON-shaped data,
        paths excepted: what another process needs to rebuild this
        configuration beside the paths (see ``from_settings``)."""
        defaults = Config(data_dir=self.data_dir, run_dir=self.run_dir)
        return {
            f.name: to_data(getattr(self, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }

    def to_json(self) -> str:
        """The whole configuration as JSON (``from_json`` reads it back)."""
        return json.dumps(to_data(self))

    @classmethod
    def from_json(cls, text: str) -> Config:
        return config_from_data(json.loads(text), "JSON")


def _default_dirs() -> tuple[Path, Path]:
    if os.geteuid() == 0:
        return Path("/var/lib/servin"), Path("/run/servin")
    import platformdirs  # only a user's directories need it

    return (
        Path(platformdirs.user_data_dir("servin")),
        Path(platformdirs.user_runtime_dir("servin")),
    )


def default_config_path() -> Path:
    if os.geteuid() == 0:
        return Path("/etc/servin/servin.toml")
    import platformdirs

    return Path(platformdirs.user_config_dir("servin")) / "servin.toml"


def load_config(path: Path | None = None) -> Config:
    """Read ``path`` (or the default file, if it exists) into a Config.

    A file given explicitly must exist; the default one may be absent.
    """
    explicit = path is not None
    path = path or default_config_path()
    try:
        f = path.open("rb")
    except FileNotFoundError:
        if explicit:
            raise InvalidArgument("config", str(path), "file does not exist") from None
        return Config()

    import tomllib  # only a file needs the parser

    try:
        with f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise InvalidArgument("config", str(path), f"not valid TOML: {e}") from e
    return config_from_data(raw, str(path))


def config_from_data(data: Any, source: str) -> Config:
    """A Config from JSON-shaped ``data``; ``source`` names it in errors."""
    try:
        return from_data(Config, data)
    except RecordError as e:
        raise InvalidArgument("config", source, str(e)) from None
