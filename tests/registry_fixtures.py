"""Real registries for the tests: Debian's docker-registry (distribution 2.8).

Three session-wide registries on loopback, each with its own storage:

- ``registry``: anonymous, plain HTTP, delete enabled;
- ``registry_basic``: htpasswd basic auth (``USER``/``PASSWORD``);
- ``registry_token``: bearer tokens from :class:`TokenIssuer`, a small token
  server running in a thread of the test process. It signs JWTs with a
  self-signed RSA key whose certificate is both in the registry's
  ``rootcertbundle`` and in each token's ``x5c`` header, and grants the scope
  asked for to ``USER`` only.

The registries are shared by the whole session, so each test uses its own
repository names (:func:`unique_repo`).
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from registry_server import RegistryServer, free_port, start_registry, unique_repo

__all__ = [
    "PASSWORD",
    "USER",
    "RegistryServer",
    "TokenIssuer",
    "free_port",
    "registry",
    "registry_basic",
    "registry_token",
    "unique_repo",
]

USER = "servin"
PASSWORD = "correct horse battery staple"
TOKEN_SERVICE = "servin-test-registry"
TOKEN_ISSUER = "servin-test-issuer"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenIssuer:
    """A bearer-token server for the registry, in a thread of the test process.

    It counts the tokens it grants, so tests can check that tokens are cached.
    """

    def __init__(self, workdir: Path) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, TOKEN_ISSUER)])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = workdir / "token-cert.pem"
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.granted: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/token"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def issue(self, account: str, scopes: list[str]) -> str:
        """A JWT granting ``scopes`` (``repository:NAME:ACTIONS``) to ``account``."""
        access = []
        for scope in scopes:
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            access.append({"type": kind, "name": name, "actions": actions.split(",")})
        now = int(time.time())
        header = {
            "typ": "JWT",
            "alg": "RS256",
            "x5c": [
                base64.b64encode(
                    self.cert.public_bytes(serialization.Encoding.DER)
                ).decode()
            ],
        }
        claims = {
            "iss": TOKEN_ISSUER,
            "sub": account,
            "aud": TOKEN_SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": secrets.token_hex(8),
            "access": access,
        }
        signing_input = (
            _b64url(json.dumps(header).encode())
            + "."
            + _b64url(json.dumps(claims).encode())
        )
        signature = self.key.sign(
            signing_input.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
        return signing_input + "." + _b64url(signature)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                if query.get("service") != [TOKEN_SERVICE]:
                    self._reply(400, {"error": "unknown service"})
                    return
                account = self._account()
                if account is None:
                    self._reply(401, {"error": "invalid credentials"})
                    return
                # Anonymous callers get a token that grants nothing.
                scopes = query.get("scope", []) if account else []
                token = issuer.issue(account, [s for q in scopes for s in q.split()])
                if account:
                    issuer.granted.extend(scopes)
                self._reply(200, {"token": token, "expires_in": 300})

            def _account(self) -> str | None:
                """The user ("" if anonymous), or None for wrong credentials."""
                header = self.headers.get("Authorization", "")
                if not header:
                    return ""
                scheme, _, value = header.partition(" ")
                if scheme.lower() != "basic":
                    return None
                user, _, password = base64.b64decode(value).decode().partition(":")
                return user if (user, password) == (USER, PASSWORD) else None

            def _reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RegistryServer]:
    """An anonymous registry over plain HTTP on loopback."""
    server = start_registry(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def registry_basic(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RegistryServer]:
    """A registry that wants ``USER``/``PASSWORD`` through basic auth."""
    workdir = tmp_path_factory.mktemp("registry-basic")
    entry = subprocess.run(
        ["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True
    ).stdout
    (workdir / "htpasswd").write_bytes(entry)
    server = start_registry(
        workdir,
        {"htpasswd": {"realm": "servin-test", "path": str(workdir / "htpasswd")}},
    )
    yield server
    server.stop()


@pytest.fixture(scope="session")
def token_issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenIssuer]:
    issuer = TokenIssuer(tmp_path_factory.mktemp("token-issuer"))
    yield issuer
    issuer.stop()


@pytest.fixture(scope="session")
def registry_token(
    tmp_path_factory: pytest.TempPathFactory, token_issuer: TokenIssuer
) -> Iterator[RegistryServer]:
    """A registry that wants bearer tokens from :class:`TokenIssuer`."""
    auth = {
        "token": {
            "realm": token_issuer.realm,
            "service": TOKEN_SERVICE,
            "issuer": TOKEN_ISSUER,
            "rootcertbundle": str(token_issuer.cert_path),
        }
    }
    server = start_registry(tmp_path_factory.mktemp("registry-token"), auth)
    yield server
    server.stop()
