"""The responder process: ``python -m servin_core.network.dns --database DB
--network-id ID --address GATEWAY``, started by ``ensure_responder``.

It binds first and forks second, so that the command that started it learns
of a port already taken from stderr, and learns the serving child's owner
token from stdout once the child is ready; after that the child's output
goes to its log file.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import socket
import sqlite3
import sys
from pathlib import Path

from servin_core import log
from servin_core._process import own_token
from servin_core.network.dns.names import NameTable, open_readonly
from servin_core.network.dns.server import Responder, serve
from servin_core.network.dns.upstream import Resolvers

# Linux's IP_FREEBIND and IPV6_FREEBIND (not in the socket module of Python
# 3.11): listen on the gateway even before the bridge has its address, so
# the order in which networking sets things up does not matter.
_IP_FREEBIND = 15
_IPV6_FREEBIND = 78


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="servin-dns")
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--network-id", required=True)
    parser.add_argument("--address", required=True)
    parser.add_argument("--port", type=int, default=53)
    parser.add_argument("--resolv-conf", type=Path, default=Path("/etc/resolv.conf"))
    parser.add_argument("--log-file", type=Path, required=True)
    parser.add_argument("--log-level", default="warning")
    return parser.parse_args()


def _bind(address: str, port: int) -> tuple[socket.socket, socket.socket]:
    family = (
        socket.AF_INET6
        if ipaddress.ip_address(address).version == 6
        else socket.AF_INET
    )
    udp = socket.socket(family, socket.SOCK_DGRAM)
    tcp = socket.socket(family, socket.SOCK_STREAM)
    # SO_REUSEADDR on TCP only: it lets a restart bind beside connections in
    # TIME_WAIT, but on UDP it would let two responders share the port.
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    for sock in (udp, tcp):
        if family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, _IP_FREEBIND, 1)
        else:
            sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_FREEBIND, 1)
        sock.bind((address, port))
        sock.setblocking(False)
    tcp.listen(64)
    return udp, tcp


def _detach(log_file: Path) -> None:
    """Print this process's token and let go of the starter's pipes."""
    print(own_token(), flush=True)
    log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    null = os.open(os.devnull, os.O_RDWR)
    out = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.dup2(out, 2)
    os.close(null)
    os.close(out)
    # The starter's working directory may be a mount someone unmounts.
    os.chdir("/")


def main() -> int:
    args = _arguments()
    # Absolute before the chdir in _detach.
    args.database = args.database.absolute()
    args.log_file = args.log_file.absolute()
    args.resolv_conf = args.resolv_conf.absolute()
    log.configure(args.log_level)
    try:
        udp, tcp = _bind(args.address, args.port)
    except OSError as e:
        print(f"cannot listen on {args.address} port {args.port}: {e}", file=sys.stderr)
        return 1

    if os.fork() != 0:
        os._exit(0)

    # Opened in the child: an SQLite connection must not cross a fork.
    try:
        names = NameTable(open_readonly(args.database), args.network_id)
        names.refresh()
    except (sqlite3.Error, OSError) as e:
        print(f"cannot read {args.database}: {e}", file=sys.stderr)
        return 1
    if not names.network_exists:
        print(f"no network {args.network_id} in {args.database}", file=sys.stderr)
        return 1

    _detach(args.log_file)
    resolvers = Resolvers(args.resolv_conf, args.address)
    responder = Responder(args.network_id, args.database, names, resolvers)
    asyncio.run(serve(responder, udp, tcp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
