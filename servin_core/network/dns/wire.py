"""The DNS wire format (RFC 1035), as much of it as a forwarder that answers
A and AAAA for its own names needs.

Queries are parsed (header, the one question, the EDNS payload size from an
OPT record); answers are built with a pointer to the question's name, so an
answer record costs 16 bytes. Responses from upstream are relayed as bytes
and only their header is read, so nothing here needs to understand every
record type.
"""

from __future__ import annotations

import struct

from servin_core._dataclass import dataclass

__all__ = [
    "CLASS_IN",
    "FORMERR",
    "NOERROR",
    "NOTIMP",
    "NXDOMAIN",
    "REFUSED",
    "SERVFAIL",
    "TYPE_A",
    "TYPE_AAAA",
    "TYPE_OPT",
    "TYPE_PTR",
    "FormatError",
    "Query",
    "answer",
    "encode_name",
    "error_reply",
    "header_error",
    "is_truncated",
    "message_id",
    "parse_query",
    "truncated",
    "with_id",
]

TYPE_A = 1
TYPE_PTR = 12
TYPE_AAAA = 28
TYPE_OPT = 41
CLASS_IN = 1

NOERROR = 0
FORMERR = 1
SERVFAIL = 2
NXDOMAIN = 3
NOTIMP = 4
REFUSED = 5

_HEADER = struct.Struct("!HHHHHH")
_QR = 0x8000
_AA = 0x0400
_TC = 0x0200
_RD = 0x0100
_RA = 0x0080
_OPCODE_MASK = 0x7800
_MAX_POINTERS = 32  # more jumps than any honest name needs: a loop


class FormatError(ValueError):
    """The message is not a DNS query this responder can read."""


@dataclass(frozen=True, slots=True)
class Query:
    """One parsed query: what a reply must echo and what it asks."""

    id: int
    flags: int
    name: str
    """Lower case, dot-separated, without the trailing dot."""
    qtype: int
    qclass: int
    question: bytes
    """The question section as received, echoed in replies."""
    udp_size: int
    """The largest UDP reply the client accepts (512 unless EDNS says more)."""

    @property
    def opcode(self) -> int:
        return (self.flags & _OPCODE_MASK) >> 11


def message_id(message: bytes) -> int:
    if len(message) < _HEADER.size:
        raise FormatError("shorter than a header")
    return int.from_bytes(message[:2], "big")


def with_id(message: bytes, ident: int) -> bytes:
    """``message`` with its ID replaced (forwarded queries get their own)."""
    return ident.to_bytes(2, "big") + message[2:]


def is_truncated(message: bytes) -> bool:
    return len(message) >= _HEADER.size and bool(
        int.from_bytes(message[2:4], "big") & _TC
    )


def parse_query(message: bytes) -> Query:
    """Read a query with exactly one question."""
    if len(message) < _HEADER.size:
        raise FormatError("shorter than a header")
    ident, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(message)
    if flags & _QR:
        raise FormatError("a response, not a query")
    if qdcount != 1:
        raise FormatError(f"{qdcount} questions")

    labels, offset = _read_name(message, _HEADER.size)
    if offset + 4 > len(message):
        raise FormatError("question cut short")
    qtype, qclass = struct.unpack_from("!HH", message, offset)
    question = message[_HEADER.size : offset + 4]
    offset += 4

    # Answer and authority records in a query are unusual but legal: skip
    # them to reach an OPT record in the additional section.
    udp_size = 512
    for index in range(ancount + nscount + arcount):
        _, offset = _read_name(message, offset)
        if offset + 10 > len(message):
            raise FormatError("record cut short")
        rtype, rclass, _, rdlength = struct.unpack_from("!HHIH", message, offset)
        offset += 10 + rdlength
        if index >= ancount + nscount and rtype == TYPE_OPT:
            udp_size = max(512, min(rclass, 65535))

    name = ".".join(labels).lower()
    return Query(ident, flags, name, qtype, qclass, question, udp_size)


def _read_name(message: bytes, offset: int) -> tuple[list[str], int]:
    """The labels of the name at ``offset`` and the offset after it,
    following compression pointers."""
    labels: list[str] = []
    end = -1
    jumps = 0
    while True:
        if offset >= len(message):
            raise FormatError("name runs past the message")
        length = message[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(message):
                raise FormatError("pointer cut short")
            jumps += 1
            if jumps > _MAX_POINTERS:
                raise FormatError("compression pointers loop")
            if end < 0:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | message[offset + 1]
            continue
        if length & 0xC0:
            raise FormatError(f"unknown label type {length:#x}")
        if length == 0:
            return labels, (end if end >= 0 else offset + 1)
        label = message[offset + 1 : offset + 1 + length]
        if len(label) != length:
            raise FormatError("label cut short")
        labels.append(label.decode("ascii", errors="replace"))
        offset += 1 + length


def _reply_flags(query: Query, rcode: int, *, authoritative: bool) -> int:
    flags = _QR | (query.flags & (_OPCODE_MASK | _RD)) | _RA | rcode
    return flags | _AA if authoritative else flags


def answer(query: Query, addresses: list[bytes], ttl: int) -> bytes:
    """An authoritative NOERROR reply with one record of the question's type
    per item of data (a packed address for A and AAAA, an encoded name for
    PTR); an empty list says "the name exists, but has no record of this
    type"."""
    flags = _reply_flags(query, NOERROR, authoritative=True)
    parts = [_HEADER.pack(query.id, flags, 1, len(addresses), 0, 0), query.question]
    for address in addresses:
        # 0xC00C: the name at offset 12, i.e. the question's.
        parts.append(
            struct.pack("!HHHIH", 0xC00C, query.qtype, CLASS_IN, ttl, len(address))
        )
        parts.append(address)
    return b"".join(parts)


def encode_name(name: str) -> bytes:
    """``name`` in labels, uncompressed (for a PTR record's data)."""
    labels = [label.encode("ascii", errors="replace") for label in name.split(".")]
    return b"".join(bytes([len(lb)]) + lb for lb in labels if lb) + b"\0"


def error_reply(query: Query, rcode: int) -> bytes:
    flags = _reply_flags(query, rcode, authoritative=False)
    return _HEADER.pack(query.id, flags, 1, 0, 0, 0) + query.question


def header_error(message: bytes, rcode: int) -> bytes | None:
    """A reply naming ``rcode`` to a message whose question could not be
    read, or None when not even the header is there."""
    if len(message) < _HEADER.size:
        return None
    ident, flags = struct.unpack_from("!HH", message)
    return _HEADER.pack(ident, _QR | (flags & (_OPCODE_MASK | _RD)) | rcode, 0, 0, 0, 0)


def truncated(query: Query, reply: bytes) -> bytes:
    """``reply`` cut to its header and question with TC set: the client asks
    again over TCP (RFC 7766)."""
    flags = int.from_bytes(reply[2:4], "big") | _TC
    return _HEADER.pack(query.id, flags, 1, 0, 0, 0) + query.question
