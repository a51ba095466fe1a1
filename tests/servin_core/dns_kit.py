"""Helpers for the DNS responder's tests, run inside a test network namespace
with ``ip netns exec``: a stand-in upstream resolver, a query client that
prints what it got as JSON, and ensure/release as a Servin command would
call them.

The message code here is written apart from servin_core's on purpose, so
that the tests do not check the responder against itself.

    python dns_kit.py upstream ADDRESS
    python dns_kit.py query SERVER NAME a|aaaa udp|tcp|edns
    python dns_kit.py raw SERVER HEX
    python dns_kit.py ensure|release ROOT NETWORK_ID NAME GATEWAY
"""

from __future__ import annotations

import json
import socket
import socketserver
import struct
import sys
import threading

# What the stand-in upstream knows. "big" answers over UDP only with TC
# set; "huge" needs more than 512 bytes even over TCP.
UPSTREAM_A = {"outside.example": ["192.0.2.7"]}
BIG = [f"198.51.100.{i}" for i in range(1, 21)]
HUGE = [f"203.0.113.{i}" for i in range(1, 61)]


def _qname(message: bytes) -> tuple[str, int, int]:
    """The question's name (no compression in a query), type and its end."""
    offset, labels = 12, []
    while message[offset]:
        length = message[offset]
        labels.append(message[offset + 1 : offset + 1 + length].decode())
        offset += 1 + length
    qtype = struct.unpack_from("!H", message, offset + 1)[0]
    return ".".join(labels).lower(), qtype, offset + 5


def _upstream_reply(query: bytes, *, tcp: bool) -> bytes:
    name, qtype, end = _qname(query)
    ident = struct.unpack_from("!H", query)[0]
    addresses: list[str] = []
    rcode = 0
    truncated = False
    if name == "big.example":
        addresses, truncated = BIG, not tcp
    elif name == "huge.example":
        addresses = HUGE
    elif name in UPSTREAM_A:
        addresses = UPSTREAM_A[name]
    else:
        rcode = 3
    if qtype != 1 or truncated:
        addresses = []
    out_flags = 0x8180 | (0x0200 if truncated else 0) | rcode
    head = struct.pack("!HHHHHH", ident, out_flags, 1, len(addresses), 0, 0)
    records = b"".join(
        struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + socket.inet_aton(a)
        for a in addresses
    )
    return head + query[12:end] + records


class _Udp(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        data, sock = self.request
        sock.sendto(_upstream_reply(data, tcp=False), self.client_address)


class _Tcp(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        length = struct.unpack("!H", self.rfile.read(2))[0]
        reply = _upstream_reply(self.rfile.read(length), tcp=True)
        self.wfile.write(struct.pack("!H", len(reply)) + reply)


def upstream(address: str) -> None:
    socketserver.TCPServer.allow_reuse_address = True
    udp = socketserver.ThreadingUDPServer((address, 53), _Udp)
    tcp = socketserver.ThreadingTCPServer((address, 53), _Tcp)
    threading.Thread(target=udp.serve_forever, daemon=True).start()
    print("ready", flush=True)
    tcp.serve_forever()


def query(server: str, name: str, qtype: str, transport: str) -> dict[str, object]:
    ident = 0x4242
    question = b"".join(
        bytes([len(label)]) + label.encode() for label in name.split(".") if label
    )
    code = {"a": 1, "aaaa": 28}[qtype]
    # "edns" is UDP with an OPT record offering 4096-byte replies.
    edns = transport == "edns"
    message = (
        struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, int(edns))
        + question
        + b"\0"
        + struct.pack("!HH", code, 1)
    )
    if edns:
        message += b"\0" + struct.pack("!HHIH", 41, 4096, 0, 0)
    if transport == "tcp":
        with socket.create_connection((server, 53), timeout=10) as s:
            s.sendall(struct.pack("!H", len(message)) + message)
            length = struct.unpack("!H", _exactly(s, 2))[0]
            reply = _exactly(s, length)
    else:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(10)
            s.sendto(message, (server, 53))
            reply = s.recv(65535)

    rid, flags, _, ancount, _, _ = struct.unpack_from("!HHHHHH", reply)
    _, _, offset = _qname(reply)
    answers = []
    for _ in range(ancount):
        # Names in answers: a pointer (2 bytes) from the responder under test.
        offset = offset + 2 if reply[offset] & 0xC0 else _qname_end(reply, offset)
        rtype, _, _, rdlength = struct.unpack_from("!HHIH", reply, offset)
        data = reply[offset + 10 : offset + 10 + rdlength]
        family = socket.AF_INET if rtype == 1 else socket.AF_INET6
        answers.append(socket.inet_ntop(family, data))
        offset += 10 + rdlength
    return {
        "id": rid,
        "rcode": flags & 0xF,
        "tc": bool(flags & 0x0200),
        "aa": bool(flags & 0x0400),
        "answers": answers,
    }


def raw(server: str, hex_message: str) -> dict[str, object]:
    """Send any bytes; the reply's header, or that none came."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(3)
        s.sendto(bytes.fromhex(hex_message), (server, 53))
        try:
            reply = s.recv(65535)
        except TimeoutError:
            return {"reply": False}
    rid, flags = struct.unpack_from("!HH", reply)
    return {"reply": True, "id": rid, "qr": bool(flags & 0x8000), "rcode": flags & 0xF}


def _qname_end(message: bytes, offset: int) -> int:
    while message[offset]:
        if message[offset] & 0xC0:
            return offset + 2
        offset += 1 + message[offset]
    return offset + 1


def _exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def supervise(action: str, root: str, network_id: str, name: str, gw: str) -> None:
    from pathlib import Path

    from servin_core.config import Config
    from servin_core.core import Core
    from servin_core.network.dns import ensure_responder, release_responder
    from servin_core.network.model import Network

    network = Network(
        id=network_id,
        name=name,
        driver="bridge",
        bridge="dns0",
        subnet="10.77.0.0/24",
        gateway=gw,
        internal=False,
        dns=True,
        labels={},
        options={},
        created=0.0,
    )
    with Core(Config().with_root(Path(root))) as core:
        if action == "ensure":
            ensure_responder(core, network)
        else:
            release_responder(core, network)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    if command == "upstream":
        upstream(rest[0])
    elif command == "query":
        print(json.dumps(query(*rest)))
    elif command == "raw":
        print(json.dumps(raw(*rest)))
    else:
        supervise(command, *rest)
