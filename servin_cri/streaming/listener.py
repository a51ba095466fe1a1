"""Where the streaming server listens, and with what protection.

By default 127.0.0.1 on a free port, in the clear: kubelet and the API
server's proxy reach it from the node. A URL handed out is a single-use
secret that runs commands as root in a container, so any address beyond
loopback is served only with TLS (the server's certificate and key, PEM).
"""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument

__all__ = ["DEFAULT_ADDRESS", "StreamingListener"]

DEFAULT_ADDRESS = "127.0.0.1:0"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class StreamingListener:
    address: str = DEFAULT_ADDRESS
    """``HOST:PORT``; port 0 picks a free one."""
    cert: Path | None = None
    key: Path | None = None

    def host_port(self) -> tuple[str, int]:
        host, sep, port = self.address.rpartition(":")
        if not sep or not port.isdigit() or not host:
            raise InvalidArgument("streaming address", self.address, "not HOST:PORT")
        return host.strip("[]"), int(port)

    def tls(self) -> ssl.SSLContext | None:
        """The server's TLS context; None on loopback without a certificate.
        InvalidArgument for another address without one, or unreadable files."""
        host, _ = self.host_port()
        if self.cert is None or self.key is None:
            if not _is_loopback(host):
                raise InvalidArgument(
                    "streaming address",
                    self.address,
                    "serving beyond loopback needs a TLS certificate and key",
                )
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(self.cert, self.key)
        except (OSError, ssl.SSLError) as e:
            raise InvalidArgument("streaming TLS", str(self.cert), str(e)) from e
        return context
