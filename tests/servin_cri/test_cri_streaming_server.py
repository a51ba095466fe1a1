"""The streaming server on its own: where it listens, TLS beyond loopback,
and what it answers before any container is involved."""

from __future__ import annotations

import json
import ssl
import struct
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from spdy_client import PING, SYN_STREAM, SpdyClient
from test_cri_tcp import self_signed

from servin_core.config import Config
from servin_core.core import Core
from servin_core.errors import InvalidArgument
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.streaming.http_server import StreamingServer
from servin_cri.streaming.listener import StreamingListener


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    with Core.open(Config().with_root(tmp_path / "root")) as core:
        yield Node(core)


async def test_beyond_loopback_only_with_tls(node: Node) -> None:
    for address in ("0.0.0.0:0", "[::]:0"):
        server = StreamingServer(node, StreamingListener(address))
        with pytest.raises(InvalidArgument) as caught:
            await server.start()
        assert "TLS" in str(caught.value)
        assert address in str(caught.value)


async def test_streams_over_tls_when_given_a_certificate(
    node: Node, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    server = StreamingServer(node, StreamingListener("127.0.0.1:0", cert, key))
    await server.start()
    try:
        request = pb.ExecRequest(container_id="nope", cmd=["true"], stdout=True)
        url = server.url_for("exec", request)
        assert url.startswith("https://127.0.0.1:")

        trust = ssl.create_default_context(cafile=str(cert))
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(url, protocols=("v4.channel.k8s.io",), ssl=trust) as ws,
        ):
            messages = [message.data async for message in ws]
    finally:
        await server.stop()
    # The stream itself worked; the exec could not, and says why.
    status = json.loads(messages[-1][1:])
    assert messages[-1][0] == 3
    assert status["status"] == "Failure"
    assert "nope" in status["message"]


async def test_a_malformed_address_is_refused(node: Node) -> None:
    with pytest.raises(InvalidArgument) as caught:
        StreamingServer(node, StreamingListener("localhost"))
    assert "HOST:PORT" in str(caught.value)


async def test_spdy_answers_pings_and_ends_on_a_malformed_frame(node: Node) -> None:
    server = StreamingServer(node)
    await server.start()
    try:
        request = pb.ExecRequest(container_id="nope", cmd=["true"], stdout=True)
        url = server.url_for("exec", request)
        status, _, client = await SpdyClient.upgrade(url, "v4.channel.k8s.io")
        assert status == 101

        client.control(PING, 0, struct.pack(">I", 7))
        assert await client.pings.get() == 7

        client.control(SYN_STREAM, 0, b"\x00\x01")  # shorter than any
        await client.goaway.wait()
        await client.close()
    finally:
        await server.stop()
    assert client.goaway_status == 1  # PROTOCOL_ERROR
