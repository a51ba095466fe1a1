"""The CRI on TCP: loopback in the clear, anything else only with mutual
TLS (the server's certificate, and clients' certificates from a CA)."""

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

Issued = tuple[x509.Certificate, ec.EllipticCurvePrivateKey]


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    with Core.open(Config().with_root(tmp_path / "root")) as c:
        yield c


def issue(name: str, issuer: Issued | None = None, *, ca: bool = False) -> Issued:
    """A certificate for ``name`` signed by ``issuer`` (self-signed without)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        builder = builder.add_extension(
            x509.SubjectAlternativeName([address]), critical=False
        )
    signer = issuer[1] if issuer else key
    return builder.sign(signer, hashes.SHA256()), key


def pem(issued: Issued) -> tuple[bytes, bytes]:
    cert, key = issued
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
    )


def write(directory: Path, name: str, issued: Issued) -> tuple[Path, Path]:
    cert, key = pem(issued)
    (directory / f"{name}.crt").write_bytes(cert)
    (directory / f"{name}.key").write_bytes(key)
    (directory / f"{name}.key").chmod(0o600)
    return directory / f"{name}.crt", directory / f"{name}.key"


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed server certificate for 127.0.0.1 and its key, written
    to ``directory`` (the streaming server's TLS tests use it too)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "servin-cri")])
    now = datetime.datetime.now(datetime.UTC)
    address = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([address]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return write(directory, "cri", (cert, key))


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


async def test_beyond_loopback_mutual_tls_is_required(
    core: Core, socket_dir: Path, tmp_path: Path
) -> None:
    for listener in (
        TcpListener("0.0.0.0:0"),
        TcpListener("0.0.0.0:0", *write(tmp_path, "server", issue("server"))),
    ):
        server = CriServer(core, socket_dir / "cri.sock", tcp=listener)
        with pytest.raises(InvalidArgument, match="CA for client certificates"):
            await server.start()


async def test_mutual_tls_serves_only_clients_with_a_certificate_of_the_ca(
    core: Core, socket_dir: Path, tmp_path: Path
) -> None:
    ca = issue("servin-test-ca", ca=True)
    ca_cert, _ = write(tmp_path, "ca", ca)
    cert, key = write(tmp_path, "server", issue("servin-cri", ca))
    listener = TcpListener("127.0.0.1:0", cert, key, client_ca=ca_cert)
    server = CriServer(core, socket_dir / "cri.sock", tcp=listener)
    await server.start()
    target = f"127.0.0.1:{server.tcp_port}"
    try:
        client_cert, client_key = pem(issue("kubelet", ca))
        with_cert = grpc.ssl_channel_credentials(
            root_certificates=ca_cert.read_bytes(),
            private_key=client_key,
            certificate_chain=client_cert,
        )
        async with grpc.aio.secure_channel(target, with_cert) as ch:
            assert await version_over(ch) == "servin"

        without = grpc.ssl_channel_credentials(root_certificates=ca_cert.read_bytes())
        async with grpc.aio.secure_channel(target, without) as ch:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await version_over(ch)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        await server.stop()
