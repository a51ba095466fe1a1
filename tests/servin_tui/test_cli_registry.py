"""pull, push, login and logout through the CLI, against real registries
(Debian's docker-registry on loopback, from tests/registry_fixtures.py)."""

from __future__ import annotations

import json
import re
import stat
import urllib.request
from pathlib import Path

import pytest
from cli_runner import Cli, converse
from registry_fixtures import PASSWORD, USER, RegistryServer, unique_repo

DIGEST_RE = r"sha256:[0-9a-f]{64}"


def manifest_digest(registry: RegistryServer, repository: str, tag: str) -> str:
    """The digest the registry itself gives for ``repository:tag``."""
    request = urllib.request.Request(
        f"{registry.url}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={
            "Accept": "application/vnd.oci.image.manifest.v1+json, "
            "application/vnd.docker.distribution.manifest.v2+json"
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.headers["Docker-Content-Digest"])


@pytest.fixture
def pushed(cli: Cli, busybox_rootfs_tar: Path, registry: RegistryServer) -> str:
    """A reference to busybox, imported and pushed to the registry."""
    name = f"{registry.host}/{unique_repo('cli')}:1"
    cli.ok("import", busybox_rootfs_tar, name)
    cli.ok("push", name)
    return name


def test_push_prints_docker_lines_and_the_registry_has_it(
    cli: Cli, busybox_rootfs_tar: Path, registry: RegistryServer
) -> None:
    repository = unique_repo("cli")
    name = f"{registry.host}/{repository}:1"
    cli.ok("import", busybox_rootfs_tar, name)

    result = cli.ok("push", name)

    lines = result.lines
    assert lines[0] == f"The push refers to repository [{registry.host}/{repository}]"
    assert any(re.fullmatch(r"[0-9a-f]{12}: Pushed", line) for line in lines)
    last = re.fullmatch(rf"1: digest: ({DIGEST_RE}) size: (\d+)", lines[-1])
    assert last, lines[-1]
    assert last.group(1) == manifest_digest(registry, repository, "1")
    assert int(last.group(2)) > 0


def test_pull_into_a_fresh_store(
    cli: Cli, tmp_path: Path, registry: RegistryServer, pushed: str
) -> None:
    other = Cli(tmp_path / "other")
    repository, tag = pushed.rsplit(":", 1)
    expected = manifest_digest(registry, repository.split("/", 1)[1], tag)

    first = other.ok("pull", pushed)
    again = other.ok("image", "pull", pushed)

    assert first.lines[0] == f"1: Pulling from {repository.split('/', 1)[1]}"
    assert any(re.fullmatch(r"[0-9a-f]{12}: Pull complete", x) for x in first.lines)
    assert f"Digest: {expected}" in first.lines
    assert f"Status: Downloaded newer image for {pushed}" in first.lines
    assert first.lines[-1] == pushed
    assert f"Status: Image is up to date for {pushed}" in again.lines
    listed = other.ok("images", "--format", "{{.Repository}}:{{.Tag}}").lines
    assert listed == [pushed]
    details = json.loads(other.ok("inspect", pushed).stdout)[0]
    assert details["RepoDigests"] == [f"{repository}@{expected}"]


def test_pull_on_a_terminal_draws_a_bar_per_layer(
    cli: Cli, tmp_path: Path, pushed: str
) -> None:
    result = Cli(tmp_path / "other").in_terminal("pull", pushed)

    assert result.code == 0, result.stdout
    assert "━" in result.stdout  # rich's bar
    assert "Pull complete" in result.stdout
    assert result.stdout.rstrip().endswith(pushed)


def test_pull_quiet_prints_only_the_name(cli: Cli, tmp_path: Path, pushed: str) -> None:
    result = Cli(tmp_path / "other").ok("pull", "-q", pushed)

    assert result.lines == [pushed]


def test_pull_of_a_missing_tag_fails_and_stores_nothing(
    cli: Cli, tmp_path: Path, pushed: str
) -> None:
    other = Cli(tmp_path / "other")
    missing = pushed.rsplit(":", 1)[0] + ":no-such-tag"

    result = other("pull", missing)

    assert result.code == 1
    assert len(result.error_lines) == 1
    assert "no-such-tag" in result.stderr
    assert other.ok("images", "-q").stdout == ""


def test_pull_with_default_tag_says_so(
    cli: Cli, busybox_rootfs_tar: Path, registry: RegistryServer
) -> None:
    repository = f"{registry.host}/{unique_repo('cli')}"
    cli.ok("import", busybox_rootfs_tar, f"{repository}:latest")
    cli.ok("push", "-q", repository)

    result = cli.ok("rmi", f"{repository}:latest")
    pulled = cli.ok("pull", repository)

    assert result.code == 0
    assert pulled.lines[0] == "Using default tag: latest"
    assert pulled.lines[-1] == f"{repository}:latest"


def test_login_push_logout_with_basic_auth(
    cli: Cli, busybox_rootfs_tar: Path, registry_basic: RegistryServer
) -> None:
    host = registry_basic.host
    name = f"{host}/{unique_repo('cli')}:1"
    cli.ok("import", busybox_rootfs_tar, name)

    refused = cli("push", name)
    wrong = cli("login", "-u", USER, "--password-stdin", host, stdin=b"wrong\n")
    login = cli(
        "login", "-u", USER, "--password-stdin", host, stdin=f"{PASSWORD}\n".encode()
    )
    pushed = cli("push", name)
    logout = cli("logout", host)
    again = cli("logout", host)

    assert refused.code == 1
    assert len(refused.error_lines) == 1
    assert wrong.code == 1
    assert len(wrong.error_lines) == 1
    assert login.code == 0, login.stderr
    assert login.lines == ["Login Succeeded"]
    assert pushed.code == 0, pushed.stderr
    assert logout.lines == [f"Removing login credentials for {host}"]
    assert again.lines == [f"Not logged in to {host}"]


def test_login_stores_credentials_readable_only_by_the_owner(
    cli: Cli, registry_basic: RegistryServer
) -> None:
    host = registry_basic.host

    cli.ok("login", "-u", USER, "--password-stdin", host, stdin=PASSWORD.encode())

    auth = cli.root / "auth.json"
    assert stat.S_IMODE(auth.stat().st_mode) == 0o600
    assert host in json.loads(auth.read_text())["auths"]


def test_login_asks_on_the_terminal_without_echoing_the_password(
    cli: Cli, registry_basic: RegistryServer
) -> None:
    code, shown = converse(
        ["--root", cli.root, "login", registry_basic.host],
        [("Username: ", USER), ("Password: ", PASSWORD)],
    )

    assert code == 0, shown
    assert "Login Succeeded" in shown
    assert USER in shown
    assert PASSWORD not in shown


def test_login_without_terminal_or_user_fails_clearly(
    cli: Cli, registry_basic: RegistryServer
) -> None:
    no_user = cli("login", registry_basic.host)
    no_password = cli("login", "-u", USER, registry_basic.host)
    stdin_without_user = cli("login", "--password-stdin", registry_basic.host)

    for result, words in (
        (no_user, "-u"),
        (no_password, "--password-stdin"),
        (stdin_without_user, "--username"),
    ):
        assert result.code == 1
        assert len(result.error_lines) == 1, result.stderr
        assert words in result.stderr


def test_password_on_the_command_line_warns(
    cli: Cli, registry_basic: RegistryServer
) -> None:
    result = cli.ok("login", "-u", USER, "-p", PASSWORD, registry_basic.host)

    assert result.lines == ["Login Succeeded"]
    assert "--password-stdin" in result.stderr


def test_pull_of_a_platform_the_image_lacks_fails_naming_it(
    cli: Cli, tmp_path: Path, pushed: str
) -> None:
    other = Cli(tmp_path / "other")

    result = other("pull", "--platform", "linux/s390x", pushed)

    assert result.code == 1
    assert len(result.error_lines) == 1, result.stderr
    assert "s390x" in result.stderr
    assert other.ok("images", "-q").stdout == ""


def test_images_with_digests_shows_the_pulled_digest(
    cli: Cli, tmp_path: Path, registry: RegistryServer, pushed: str
) -> None:
    other = Cli(tmp_path / "other")
    repository, tag = pushed.rsplit(":", 1)
    expected = manifest_digest(registry, repository.split("/", 1)[1], tag)
    other.ok("pull", "-q", pushed)

    header, row = other.ok("images", "--digests").lines

    assert header.split()[:3] == ["REPOSITORY", "TAG", "DIGEST"]
    assert row.split()[:3] == [repository, tag, expected]


def test_push_of_an_unknown_image_names_it(cli: Cli, registry: RegistryServer) -> None:
    result = cli("push", f"{registry.host}/nothing/here:1")

    assert result.code == 1
    assert len(result.error_lines) == 1
    assert "nothing/here:1" in result.stderr
