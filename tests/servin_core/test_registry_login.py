"""Logins against real registries, and where credentials are kept."""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from registry_fixtures import PASSWORD, USER, RegistryServer, free_port

from servin_core.config import Config
from servin_core.core import Core
from servin_core.errors import NotFound, PermissionDenied, Unavailable
from servin_core.registry import credentials
from servin_core.registry.auth import Credentials, parse_challenges


@pytest.fixture
def core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Core]:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    config = Config(data_dir=tmp_path / "data", run_dir=tmp_path / "run")
    with Core.open(config) as core:
        yield core


def test_parse_challenges_reads_quoted_parameters() -> None:
    header = (
        'Bearer realm="https://auth.example/token",service="reg, one",'
        'scope="repository:a/b:pull" , Basic realm=plain'
    )
    bearer, basic = parse_challenges(header)
    assert bearer.scheme == "bearer"
    assert bearer.params == {
        "realm": "https://auth.example/token",
        "service": "reg, one",
        "scope": "repository:a/b:pull",
    }
    assert (basic.scheme, basic.params) == ("basic", {"realm": "plain"})


@pytest.mark.parametrize("fixture", ["registry_basic", "registry_token"])
async def test_login_stores_verified_credentials_privately(
    core: Core, fixture: str, request: pytest.FixtureRequest
) -> None:
    server: RegistryServer = request.getfixturevalue(fixture)

    await credentials.login(core, server.host, USER, PASSWORD)

    path = credentials.store_path(core.config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())["auths"][server.host]["auth"]
    assert base64.b64decode(stored).decode() == f"{USER}:{PASSWORD}"
    assert credentials.lookup(core.config, server.host) == Credentials(USER, PASSWORD)


@pytest.mark.parametrize("fixture", ["registry_basic", "registry_token"])
async def test_login_with_wrong_password_is_refused_and_not_stored(
    core: Core, fixture: str, request: pytest.FixtureRequest
) -> None:
    server: RegistryServer = request.getfixturevalue(fixture)

    with pytest.raises(PermissionDenied, match=f"{server.host}.*rejected.*{USER}"):
        await credentials.login(core, server.host, USER, "wrong")

    assert credentials.lookup(core.config, server.host) is None


async def test_login_to_closed_port_names_the_host(core: Core) -> None:
    host = f"127.0.0.1:{free_port()}"
    with pytest.raises(Unavailable, match=f"{host}.*unreachable"):
        await credentials.login(core, host, USER, PASSWORD)


async def test_logout_forgets_and_then_reports_nothing_to_forget(
    core: Core, registry_basic: RegistryServer
) -> None:
    await credentials.login(core, registry_basic.host, USER, PASSWORD)

    credentials.logout(core, f"http://{registry_basic.host}/")

    assert credentials.lookup(core.config, registry_basic.host) is None
    with pytest.raises(NotFound, match=registry_basic.host):
        credentials.logout(core, registry_basic.host)


def test_docker_config_is_read_after_servins_own_store(
    core: Core, tmp_path: Path
) -> None:
    docker_dir = tmp_path / "docker"
    docker_dir.mkdir()
    auth = base64.b64encode(b"hubuser:hubpass").decode()
    other = base64.b64encode(b"someone:secret").decode()
    (docker_dir / "config.json").write_text(
        json.dumps(
            {
                "auths": {
                    "https://index.docker.io/v1/": {"auth": auth},
                    "https://registry.example:5000": {"auth": other},
                }
            }
        )
    )

    assert credentials.lookup(core.config, "docker.io") == Credentials(
        "hubuser", "hubpass"
    )
    assert credentials.lookup(core.config, "registry.example:5000") == Credentials(
        "someone", "secret"
    )

    credentials.store(core.config, "index.docker.io", Credentials("mine", "pw"))
    stored = json.loads(credentials.store_path(core.config).read_text())["auths"]
    assert list(stored) == ["https://index.docker.io/v1/"]
    assert credentials.lookup(core.config, "docker.io") == Credentials("mine", "pw")
