"""Configuration: a TOML file validated by pydantic, and where state lives.

As root, state is under /var/lib/servin and the run directory is /run/servin;
as a user, under the XDG data and runtime directories. ``--root DIR`` puts
everything (state, run directory, sockets) under DIR so that isolated
instances can run side by side.

An example file::

    default_runtime = "runc"
    insecure_registries = ["registry.lan:5000"]

    [registries."docker.io"]
    mirrors = ["127.0.0.1:5000"]

Every command loads the configuration, most of them with no file, so the
models' validators are built only when a file is validated
(``defer_build``), and the defaults are made without validation
(``model_construct``): building them costs more than many commands take.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from servin_core.errors import InvalidArgument

__all__ = ["Config", "RegistryConfig", "default_config_path", "load_config"]


class RegistryConfig(BaseModel):
    """Settings for one registry host, keyed by its name (``docker.io``)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    mirrors: list[str] = Field(default_factory=list)
    """Hosts tried in order before the registry itself, for pulls only."""
    insecure: bool = False
    """Allow plain HTTP and unverified TLS for this host."""


class Config(BaseModel):
    """The whole configuration; every field has a working default."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    data_dir: Path = Field(default_factory=lambda: _default_dirs()[0])
    run_dir: Path = Field(default_factory=lambda: _default_dirs()[1])
    default_runtime: Literal["crun", "runc"] = "crun"
    registries: dict[str, RegistryConfig] = Field(default_factory=dict)
    insecure_registries: list[str] = Field(default_factory=list)
    max_concurrent_downloads: int = Field(default=3, ge=1, le=32)
    max_concurrent_uploads: int = Field(default=5, ge=1, le=32)
    push_chunk_size: int = Field(default=0, ge=0)
    """Upload blobs in PATCH chunks of this many bytes; 0 uploads each blob
    in one request."""
    layer_compression_level: int = Field(default=1, ge=0, le=9)
    """gzip level for layers Servin makes itself (import, commit)."""

    def with_root(self, root: Path) -> Config:
        """This configuration with every path under ``root``."""
        return self.model_copy(update={"data_dir": root, "run_dir": root / "run"})

    def registry(self, host: str) -> RegistryConfig:
        return self.registries.get(host, RegistryConfig())

    def is_insecure(self, host: str) -> bool:
        return host in self.insecure_registries or self.registry(host).insecure


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
        # The defaults need no validation (the fields' types hold them).
        return Config.model_construct()

    import tomllib  # only a file needs the parser

    try:
        with f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise InvalidArgument("config", str(path), f"not valid TOML: {e}") from e
    try:
        return Config.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            for err in e.errors()
        )
        raise InvalidArgument("config", str(path), problems) from e
