"""The CRI on TCP, only when asked: kubelet speaks to a local unix socket,
but remote tools (critest on another host, a debugging crictl) may want a
port. Loopback is served in the clear; any other address only with mutual
TLS: the server's certificate, and clients' certificates signed by a CA
given here, since the CRI gives whoever reaches it root on the node (TLS
that checks no client would only encrypt the way in).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import grpc

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument

__all__ = ["DEFAULT_TCP_ADDRESS", "TcpListener", "add_tcp_port", "check_tcp"]

DEFAULT_TCP_ADDRESS = "127.0.0.1:10010"


@dataclass(frozen=True)
class TcpListener:
    """Where to listen (``host:port``) and, for TLS, the server's
    certificate and key and the CA that signs clients' certificates (PEM
    files; all three beyond loopback)."""

    address: str = DEFAULT_TCP_ADDRESS
    cert: Path | None = None
    key: Path | None = None
    client_ca: Path | None = None


def _host(address: str) -> str:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise InvalidArgument("CRI address", address, "expected HOST:PORT")
    return host.strip("[]")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_tcp(listener: TcpListener) -> None:
    """InvalidArgument unless ``listener`` is loopback or has mutual TLS."""
    host = _host(listener.address)
    if (listener.cert is None) != (listener.key is None):
        raise InvalidArgument(
            "CRI address", listener.address, "a TLS certificate needs its key"
        )
    mutual = listener.cert is not None and listener.client_ca is not None
    if not mutual and not _is_loopback(host):
        raise InvalidArgument(
            "CRI address",
            listener.address,
            "serving beyond loopback needs a TLS certificate, its key and a"
            " CA for client certificates",
        )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise InvalidArgument("CRI TLS", str(path), e.strerror or str(e)) from e


def add_tcp_port(server: Any, listener: TcpListener) -> int:
    """Bind ``server`` (a grpc.aio server) as ``listener`` says; the port."""
    check_tcp(listener)
    if listener.cert is None or listener.key is None:
        port: int = server.add_insecure_port(listener.address)
        return port
    pair = (_read(listener.key), _read(listener.cert))
    if listener.client_ca is None:
        credentials = grpc.ssl_server_credentials([pair])
    else:
        credentials = grpc.ssl_server_credentials(
            [pair],
            root_certificates=_read(listener.client_ca),
            require_client_auth=True,
        )
    port = server.add_secure_port(listener.address, credentials)
    return port
