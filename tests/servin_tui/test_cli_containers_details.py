"""A container's inspect JSON in docker's shape, and the times and
durations ``logs`` accepts."""

from __future__ import annotations

import pytest

from servin_core.containers.model import (
    Container,
    ContainerConfig,
    Mount,
    RestartPolicy,
    State,
)
from servin_core.errors import InvalidArgument
from servin_tui.cli.containers_inspect import container_details, go_timestamp
from servin_tui.cli.containers_logs import parse_log_time

IMAGE_CONFIG = {
    "Entrypoint": ["/entry"],
    "Cmd": ["serve"],
    "Env": ["PATH=/bin", "MODE=image"],
    "WorkingDir": "/app",
    "User": "nobody",
    "Labels": {"from": "image"},
}


def container(config: ContainerConfig, state: State = State.EXITED) -> Container:
    return Container(
        id="ab" * 32,
        name="web",
        image_id="sha256:" + "e" * 64,
        image_name="docker.io/library/busybox:latest",
        created=1_700_000_000.25,
        config=config,
        lowers=(),
        runtime="runc",
        state=state,
        pid=0,
        exit_code=3,
        oom_killed=True,
        started_at=1_700_000_001.0,
        finished_at=1_700_000_002.5,
        restart_count=2,
    )


def test_state_name_and_times_in_docker_shape() -> None:
    details = container_details(container(ContainerConfig(image="busybox")), {})

    assert details["Id"] == "ab" * 32
    assert details["Name"] == "/web"
    assert details["Image"] == "sha256:" + "e" * 64
    assert details["Created"] == "2023-11-14T22:13:20.25Z"
    assert details["RestartCount"] == 2
    assert details["State"] == {
        "Status": "exited",
        "Running": False,
        "Paused": False,
        "Restarting": False,
        "OOMKilled": True,
        "Dead": False,
        "Pid": 0,
        "ExitCode": 3,
        "Error": "",
        "StartedAt": "2023-11-14T22:13:21Z",
        "FinishedAt": "2023-11-14T22:13:22.5Z",
    }
    assert details["HostConfig"]["LogConfig"]["Type"] == "json-file"


def test_image_settings_lie_under_the_containers_own() -> None:
    own = ContainerConfig(
        image="busybox",
        cmd=["run", "fast"],
        env=["MODE=mine", "EXTRA=1"],
        labels={"team": "a"},
    )

    details = container_details(container(own), IMAGE_CONFIG)

    assert (details["Path"], details["Args"]) == ("/entry", ["run", "fast"])
    config = details["Config"]
    assert config["Env"] == ["PATH=/bin", "MODE=mine", "EXTRA=1"]
    assert config["Labels"] == {"from": "image", "team": "a"}
    assert (config["WorkingDir"], config["User"]) == ("/app", "nobody")
    assert config["Image"] == "busybox"
    assert config["Hostname"] == "ab" * 6


def test_a_new_entrypoint_drops_the_images_command() -> None:
    own = ContainerConfig(image="busybox", entrypoint=["/bin/echo"])

    details = container_details(container(own), IMAGE_CONFIG)

    assert (details["Path"], details["Args"]) == ("/bin/echo", [])
    assert details["Config"]["Cmd"] is None


def test_host_config_and_mounts() -> None:
    own = ContainerConfig(
        image="busybox",
        restart=RestartPolicy(name="on-failure", maximum_retry=2),
        mounts=[
            Mount(type="bind", source="/srv", target="/data", read_only=True),
            Mount(type="tmpfs", target="/run", options=("size=64k",)),
        ],
        cap_add=["NET_ADMIN"],
        privileged=True,
    )

    details = container_details(container(own), {})

    host = details["HostConfig"]
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert host["Binds"] == ["/srv:/data:ro"]
    assert host["Tmpfs"] == {"/run": "size=64k"}
    assert (host["CapAdd"], host["Privileged"]) == (["NET_ADMIN"], True)
    assert details["Mounts"][0] == {
        "Type": "bind",
        "Source": "/srv",
        "Destination": "/data",
        "Mode": "ro",
        "RW": False,
        "Propagation": "rprivate",
    }


def test_go_timestamp_of_an_unknown_time_is_gos_zero_time() -> None:
    assert go_timestamp(None) == "0001-01-01T00:00:00Z"


def test_log_times_absolute_unix_and_relative() -> None:
    now = 1_700_000_000.0

    assert parse_log_time("--since", "1699999999.5", now) == 1_699_999_999.5
    assert parse_log_time("--since", "10m", now) == now - 600
    assert parse_log_time("--since", "1h30m", now) == now - 5400
    assert parse_log_time("--since", "2023-11-14T22:13:20Z", now) == now
    with pytest.raises(InvalidArgument, match="--until yesterday"):
        parse_log_time("--until", "yesterday", now)
