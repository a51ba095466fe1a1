"""The CRI on TCP: loopback in the clear, anything else only with TLS."""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from servin_core.config import Config
from servin_core.core import Core
from servin_core.errors import InvalidArgument
from servin_cri.pb import api_pb2 as pb
from servin_cri.pb import api_pb2_grpc
from servin_cri.server import CriServer
from servin_cri.tcp import TcpListener


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    with Core.open(Config().with_root(tmp_path / "root")) as c:
        yield c


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "servin-cri")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cri.crt", directory / "cri.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


async def version_over(channel: grpc.aio.Channel) -> str:
    stub = api_pb2_grpc.RuntimeServiceStub(channel)
    answer = await stub.Version(pb.VersionRequest())
    return str(answer.runtime_name)


async def test_loopback_tcp_serves_in_the_clear(core: Core, socket_dir: Path) -> None:
    server = CriServer(core, socket_dir / "cri.sock", tcp=TcpListener("127.0.0.1:0"))
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.tcp_port}") as ch:
            assert await version_over(ch) == "servin"
    finally:
        await server.stop()


async def test_beyond_loopback_tls_is_required(core: Core, socket_dir: Path) -> None:
    server = CriServer(core, socket_dir / "cri.sock", tcp=TcpListener("0.0.0.0:0"))
    with pytest.raises(InvalidArgument, match="needs a TLS certificate"):
        await server.start()


async def test_tls_serves_a_client_that_trusts_the_certificate(
    core: Core, socket_dir: Path, tmp_path: Path
) -> None:
    cert, key = self_signed(tmp_path)
    server = CriServer(
        core, socket_dir / "cri.sock", tcp=TcpListener("127.0.0.1:0", cert, key)
    )
    await server.start()
    try:
        trust = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        target = f"127.0.0.1:{server.tcp_port}"
        async with grpc.aio.secure_channel(target, trust) as ch:
            assert await version_over(ch) == "servin"
    finally:
        await server.stop()
