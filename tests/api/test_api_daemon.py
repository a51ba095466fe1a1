"""The daemon itself: its socket, TCP rules, signals, shared state, and the
protocol basics every client relies on (ping, versions, error replies)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

from api_daemon import DOCKER, Daemon, docker_env
from netconfig import config_file
from registry_fixtures import free_port


def test_socket_is_group_only_and_the_docker_cli_sees_servin(daemon: Daemon) -> None:
    mode = stat.S_IMODE(os.stat(daemon.socket).st_mode)

    version = json.loads(daemon.docker_ok("version", "--format", "{{json .Server}}"))
    info = json.loads(daemon.docker_ok("info", "--format", "{{json .}}"))

    assert mode == 0o660
    assert version["Platform"]["Name"].startswith("Servin")
    assert version["ApiVersion"] == "1.50"
    assert info["ServerVersion"] == version["Version"]
    assert info["DockerRootDir"] == str(daemon.root)
    assert info["Containers"] == 0


def test_ping_answers_get_and_head_with_the_negotiation_headers(
    daemon: Daemon,
) -> None:
    got = daemon.request("GET", "/_ping")
    head = daemon.request("HEAD", "/_ping")

    assert got.status == head.status == 200
    assert got.body == b"OK"
    assert head.body == b""
    for reply in (got, head):
        assert reply.headers["api-version"] == "1.50"
        assert reply.headers["ostype"] == "linux"
        assert reply.headers["docker-experimental"] == "false"
        assert reply.headers["swarm"] == "inactive"
        assert "builder-version" in reply.headers
        assert reply.headers["server"].startswith("Servin/")


def test_versions_from_1_24_to_1_50_and_none_are_answered(daemon: Daemon) -> None:
    for prefix in ("", "/v1.24", "/v1.41", "/v1.50"):
        reply = daemon.request("GET", f"{prefix}/version")
        assert reply.status == 200, prefix
        assert reply.headers["api-version"] == "1.50"

    too_new = daemon.request("GET", "/v1.51/version")
    too_old = daemon.request("GET", "/v1.23/version")

    assert too_new.status == too_old.status == 400
    assert "too new" in too_new.json()["message"]
    assert "too old" in too_old.json()["message"]
    assert too_new.headers["server"].startswith("Servin/")


def test_errors_are_json_messages_with_dockers_statuses(
    daemon: Daemon, busybox: str
) -> None:
    missing = daemon.request("GET", "/v1.50/containers/nothing/json")
    no_image = daemon.request(
        "POST", "/v1.50/containers/create", {"Image": "nothing-here:1"}
    )
    bad_json = daemon.request("POST", "/v1.50/containers/create", None)
    wrong_type = daemon.request(
        "POST", "/v1.50/containers/create", {"Image": busybox, "Cmd": 5}
    )
    taken = [
        daemon.request(
            "POST",
            "/v1.50/containers/create?name=twice",
            {"Image": busybox, "Cmd": ["true"]},
        )
        for _ in range(2)
    ]
    unknown_route = daemon.request("GET", "/v1.50/no/such/thing")

    assert missing.status == 404
    assert missing.json() == {"message": "No such container: nothing"}
    assert no_image.status == 404
    assert "No such image" in no_image.json()["message"]
    assert bad_json.status == 400
    assert "Image" in bad_json.json()["message"]
    assert wrong_type.status == 400
    assert "Cmd" in wrong_type.json()["message"]
    assert taken[0].status == 201
    assert taken[1].status == 409
    assert "twice" in taken[1].json()["message"]
    assert unknown_route.status == 404
    assert "message" in unknown_route.json()


def test_malformed_body_is_refused_and_the_daemon_keeps_serving(
    daemon: Daemon,
) -> None:
    from api_daemon import raw_request

    garbled = raw_request(
        daemon.socket, "POST", "/v1.50/containers/create", b'{"Image": '
    )
    array = raw_request(daemon.socket, "POST", "/v1.50/containers/create", b"[1]")

    assert garbled.status == array.status == 400
    assert "JSON" in garbled.json()["message"]
    assert daemon.request("GET", "/_ping").status == 200


def test_tcp_on_loopback_serves_and_beyond_loopback_without_tls_is_refused(
    tmp_path: Path,
) -> None:
    port = free_port()
    served = Daemon(tmp_path / "root", extra=("--tcp", f"127.0.0.1:{port}"))
    served.start()
    try:
        env = docker_env(served.socket) | {"DOCKER_HOST": f"tcp://127.0.0.1:{port}"}
        over_tcp = subprocess.run(
            [DOCKER, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        served.stop()

    refused = subprocess.run(
        Daemon(tmp_path / "other", extra=("--tcp", f"0.0.0.0:{port}")).argv(),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert over_tcp.returncode == 0, over_tcp.stderr
    assert over_tcp.stdout.strip()
    assert refused.returncode == 1
    assert "0.0.0.0" in refused.stderr
    assert "TLS" in refused.stderr
    assert not (tmp_path / "other" / "run" / "servin.sock").exists()


def test_sigterm_leaves_containers_running_and_a_new_daemon_finds_them(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok("run", "-d", busybox, "sleep", "300").strip()

    status = daemon.stop()
    seen_by_cli = daemon.servin_ok("ps", "-q", "--no-trunc").split()
    socket_left = daemon.socket.exists()
    daemon.start()
    listed = daemon.docker_ok("ps", "-q", "--no-trunc").split()

    assert status == 0
    assert not socket_left
    assert seen_by_cli == [ident]
    assert listed == [ident]


def test_what_the_cli_does_the_api_sees_and_back(daemon: Daemon, busybox: str) -> None:
    made_by_cli = daemon.servin_ok("create", "--name", "from-cli", busybox, "true")
    made_by_api = daemon.docker_ok("create", "--name", "from-api", busybox, "true")

    names_via_api = daemon.docker_ok("ps", "-a", "--format", "{{.Names}}").split()
    names_via_cli = daemon.servin_ok("ps", "-a", "--format", "{{.Names}}").split()

    assert made_by_cli.strip() and made_by_api.strip()
    assert sorted(names_via_api) == ["from-api", "from-cli"]
    assert sorted(names_via_cli) == ["from-api", "from-cli"]


async def test_the_cri_answers_beside_the_engine_api(daemon: Daemon) -> None:
    import grpc

    from servin_cri.pb import api_pb2, api_pb2_grpc

    path = daemon.root / "run" / "cri.sock"
    async with grpc.aio.insecure_channel(f"unix:{path}") as channel:
        runtime = api_pb2_grpc.RuntimeServiceStub(channel)
        answer = await runtime.Version(api_pb2.VersionRequest(version="v1"))

    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    assert answer.runtime_name
    assert daemon.request("GET", "/_ping").status == 200


async def test_the_cri_reads_networks_from_the_configured_cni_dir(
    tmp_path: Path,
) -> None:
    import grpc

    from servin_cri.pb import api_pb2, api_pb2_grpc

    net_d = tmp_path / "net.d"
    net_d.mkdir()
    broken = {"cniVersion": "1.0.0", "name": "n", "plugins": [{"type": "no-such"}]}
    (net_d / "10-broken.conflist").write_text(json.dumps(broken))
    config = tmp_path / "servin.toml"
    config.write_text(config_file().read_text() + f'cni_conf_dir = "{net_d}"\n')
    daemon = Daemon(tmp_path / "root", extra=("--config", str(config)))
    daemon.start()
    try:
        path = daemon.root / "run" / "cri.sock"
        async with grpc.aio.insecure_channel(f"unix:{path}") as channel:
            runtime = api_pb2_grpc.RuntimeServiceStub(channel)
            status = await runtime.Status(api_pb2.StatusRequest())
    finally:
        daemon.stop()

    network = {c.type: c for c in status.status.conditions}["NetworkReady"]
    assert not network.status
    assert str(net_d) in network.message
    assert "10-broken.conflist: no plugin no-such" in network.message


def test_a_root_too_deep_for_a_socket_path_is_refused_by_name(
    tmp_path: Path,
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)

    refused = subprocess.run(
        Daemon(deep).argv(), capture_output=True, text=True, timeout=60
    )

    assert refused.returncode == 1
    assert "servin.sock" in refused.stderr
    assert "shorter --root" in refused.stderr


def test_tls_requires_a_client_certificate_signed_by_the_ca(
    tmp_path: Path,
) -> None:
    from tls_kit import make_tls_files

    from servin_tui.headless import check_tcp, parse_options

    files = make_tls_files(tmp_path / "tls")
    tls = [
        *("--tlscacert", str(files["ca"])),
        *("--tlscert", str(files["server_cert"])),
        *("--tlskey", str(files["server_key"])),
    ]
    port = free_port()
    served = Daemon(tmp_path / "root", extra=("--tcp", f"127.0.0.1:{port}", *tls))
    served.start()
    try:
        env = docker_env(served.socket) | {"DOCKER_HOST": f"tcp://127.0.0.1:{port}"}
        client_tls = [
            "--tlsverify",
            *("--tlscacert", str(files["ca"])),
            *("--tlscert", str(files["client_cert"])),
            *("--tlskey", str(files["client_key"])),
        ]
        with_cert = subprocess.run(
            [DOCKER, *client_tls, "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        without_cert = subprocess.run(
            [DOCKER, "--tlsverify", "--tlscacert", str(files["ca"]), "info"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    finally:
        served.stop()
    # Beyond loopback, the same files make an address acceptable.
    addresses, context = check_tcp(
        parse_options(["--headless", "--tcp", f"0.0.0.0:{port}", *tls])
    )

    assert with_cert.returncode == 0, with_cert.stderr
    assert with_cert.stdout.strip()
    assert without_cert.returncode != 0
    assert addresses == [("0.0.0.0", port)]
    assert context is not None
