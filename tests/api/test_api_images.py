"""Images through the docker CLI: save and load, history, tag, rmi, prune,
search, and login and push with credentials (X-Registry-Auth)."""

from __future__ import annotations

import json
from pathlib import Path

from api_daemon import Daemon
from registry_fixtures import PASSWORD, USER, RegistryServer, unique_repo


def test_save_then_load_brings_the_image_back(
    daemon: Daemon, busybox: str, tmp_path: Path
) -> None:
    archive = tmp_path / "busybox.tar"
    image_id = daemon.docker_ok("inspect", "--format", "{{.Id}}", busybox).strip()

    daemon.docker_ok("save", "-o", str(archive), busybox)
    daemon.docker_ok("rmi", busybox)
    gone = daemon.docker_ok("images", "-q")
    loaded = daemon.docker_ok("load", "-i", str(archive))
    again = daemon.docker_ok("inspect", "--format", "{{.Id}}", busybox).strip()

    assert archive.stat().st_size > 0
    assert gone == ""
    assert f"Loaded image: {busybox}" in loaded
    assert again == image_id


def test_tag_history_rmi_and_prune(daemon: Daemon, busybox: str) -> None:
    daemon.docker_ok("tag", busybox, "mine/box:2")
    tags = daemon.docker_ok("images", "--format", "{{.Repository}}:{{.Tag}}").split()
    history = daemon.docker_ok("history", "--format", "{{.ID}}", "mine/box:2")
    untagged = daemon.docker_ok("rmi", "mine/box:2")
    in_use = daemon.docker_ok("create", busybox, "true").strip()
    refused = daemon.docker("rmi", busybox)
    daemon.docker_ok("rm", in_use)
    pruned = daemon.docker_ok("image", "prune", "-a", "-f")

    assert sorted(tags) == [busybox, "mine/box:2"]
    assert history.splitlines()[0].startswith(
        daemon.docker_ok("images", "-q", busybox).strip()
    )
    assert "Untagged: mine/box:2" in untagged
    assert refused.returncode == 1
    assert "in use" in refused.stderr
    assert "Deleted" in pruned
    assert daemon.docker_ok("images", "-q") == ""


def test_search_says_it_is_not_supported(daemon: Daemon) -> None:
    searched = daemon.docker("search", "busybox")

    assert searched.returncode == 1
    assert "not supported" in searched.stderr


def test_login_then_push_with_the_clients_credentials(
    daemon: Daemon, busybox: str, registry_basic: RegistryServer
) -> None:
    remote = f"{registry_basic.host}/{unique_repo('api')}/busybox:1"
    daemon.docker_ok("tag", busybox, remote)

    refused = daemon.docker("push", remote)
    wrong = daemon.docker(
        "login", "-u", USER, "--password-stdin", registry_basic.host,
        stdin=b"not the password\n",
    )  # fmt: skip
    logged = daemon.docker(
        "login", "-u", USER, "--password-stdin", registry_basic.host,
        stdin=PASSWORD.encode() + b"\n",
    )  # fmt: skip
    pushed = daemon.docker("push", remote)
    daemon.docker_ok("rmi", remote)
    pulled = daemon.docker("pull", remote)
    stored = json.loads(
        (daemon.socket.parent / "docker-config" / "config.json").read_text()
    )

    assert refused.returncode == 1
    assert wrong.returncode == 1
    assert logged.returncode == 0, logged.stderr
    assert pushed.returncode == 0, pushed.stderr
    assert "digest: sha256:" in pushed.stdout
    assert pulled.returncode == 0, pulled.stderr
    # The client keeps its login; the daemon stores none of its own.
    assert registry_basic.host in stored["auths"]
    assert not (daemon.root / "auth.json").exists()
