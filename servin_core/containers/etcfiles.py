"""The /etc files Servin writes for each container: hosts, hostname and
resolv.conf, bind-mounted over the image's own as docker does.

They live beside the container's other files, not in its layer, so that
they follow the container's name and network rather than its image.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

__all__ = ["write_etc_files"]


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


_HOSTS = """127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
"""
_FALLBACK_DNS = ("8.8.8.8", "8.8.4.4")


def _resolv_conf(host_file: Path) -> str:
    """The host's resolv.conf without loopback name servers (unreachable from
    the container's own network namespace); Google's when none is left, as
    docker does."""
    try:
        lines = host_file.read_text().splitlines()
    except OSError:
        lines = []
    kept: list[str] = []
    servers = 0
    for line in lines:
        words = line.split()
        if words[:1] == ["nameserver"] and len(words) > 1:
            try:
                if ipaddress.ip_address(words[1].split("%")[0]).is_loopback:
                    continue
            except ValueError:
                continue
            servers += 1
        kept.append(line)
    if servers == 0:
        kept += [f"nameserver {server}" for server in _FALLBACK_DNS]
    return "\n".join(kept) + "\n"


def _with_nameservers(text: str, nameservers: tuple[str, ...]) -> str:
    """``text`` (the host's file, filtered) with its name servers replaced:
    a network's own resolver answers for the containers on it and passes
    other names on to the host's resolvers itself."""
    kept = [line for line in text.splitlines() if line.split()[:1] != ["nameserver"]]
    return "\n".join([f"nameserver {server}" for server in nameservers] + kept) + "\n"


def _hosts(addresses: tuple[str, ...], hostname: str) -> str:
    return _HOSTS + "".join(f"{address}\t{hostname}\n" for address in addresses)


def write_etc_files(
    directory: Path,
    hostname: str,
    *,
    host_resolv: Path = Path("/etc/resolv.conf"),
    host_hosts: Path = Path("/etc/hosts"),
    addresses: tuple[str, ...] = (),
    nameservers: tuple[str, ...] = (),
    host: bool = False,
) -> dict[str, Path]:
    """Write the files into ``directory``; returns container path -> file.

    ``addresses`` are the container's own (each names ``hostname`` in
    /etc/hosts); ``nameservers`` replace the host's in resolv.conf; ``host``
    (``--network host``) copies the host's hosts and resolv.conf unchanged,
    since the container shares the host's network and its loopback."""
    if host:
        hosts = _read(host_hosts) or _HOSTS
        resolv = _read(host_resolv) or _resolv_conf(host_resolv)
    else:
        hosts = _hosts(addresses, hostname)
        resolv = _resolv_conf(host_resolv)
        if nameservers:
            resolv = _with_nameservers(resolv, nameservers)
    files = {
        "/etc/hosts": (directory / "hosts", hosts),
        "/etc/hostname": (directory / "hostname", hostname + "\n"),
        "/etc/resolv.conf": (directory / "resolv.conf", resolv),
    }
    for path, text in files.values():
        temp = path.with_name(path.name + ".tmp")
        temp.write_text(text)
        os.chmod(temp, 0o644)
        os.replace(temp, path)
    return {target: path for target, (path, _) in files.items()}
