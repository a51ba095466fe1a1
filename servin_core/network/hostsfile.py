"""A running container's /etc/hosts, kept in step with ``network connect``
and ``disconnect``, as docker keeps it.

The file is bind-mounted into the container, so it is rewritten in place:
replacing it (a new inode) would leave the container reading the old one.
"""

from __future__ import annotations

from servin_core.config import Config
from servin_core.containers.model import Container
from servin_core.containers.paths import ContainerPaths

__all__ = ["add_address", "remove_address"]


def _rewrite(config: Config, container: Container, lines: list[str]) -> None:
    path = ContainerPaths.of(config, container.id).data / "hosts"
    with open(path, "r+") as f:
        f.seek(0)
        f.write("".join(lines))
        f.truncate()


def _lines(config: Config, container: Container) -> list[str] | None:
    path = ContainerPaths.of(config, container.id).data / "hosts"
    try:
        return path.read_text().splitlines(keepends=True)
    except FileNotFoundError:
        return None


def add_address(config: Config, container: Container, ip: str) -> None:
    """Name the container's host name at ``ip`` too."""
    lines = _lines(config, container)
    if lines is None or not ip:
        return
    hostname = container.config.hostname or container.short_id
    _rewrite(config, container, [*lines, f"{ip}\t{hostname}\n"])


def remove_address(config: Config, container: Container, ip: str) -> None:
    lines = _lines(config, container)
    if lines is None or not ip:
        return
    kept = [line for line in lines if line.split("\t", 1)[0] != ip]
    _rewrite(config, container, kept)
