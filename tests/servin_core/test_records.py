"""Configurations as plain dataclasses: the JSON round trip and the checks
that a file or a client's JSON must pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from servin_core.config import Config, RegistryConfig, load_config
from servin_core.containers.model import (
    ContainerConfig,
    Mount,
    Resources,
    Ulimit,
    config_from_data,
    config_from_json,
    config_to_json,
    parse_restart_policy,
)
from servin_core.errors import InvalidArgument


def test_container_config_survives_the_store_json() -> None:
    config = ContainerConfig(
        image="busybox",
        cmd=["sh", "-c", "echo hi"],
        env=["A=1"],
        labels={"team": "core"},
        resources=Resources(memory=64 << 20, ulimits=(Ulimit("nofile", 10, 20),)),
        mounts=[Mount(type="tmpfs", target="/scratch", options=("size=1m",))],
        restart=parse_restart_policy("on-failure:3"),
    )

    assert config_from_json(config_to_json(config)) == config


def test_a_bad_container_config_names_the_field() -> None:
    with pytest.raises(InvalidArgument, match=r"resources\.memory.*integer"):
        config_from_data({"image": "busybox", "resources": {"memory": "lots"}})
    with pytest.raises(InvalidArgument, match=r"restart\.name.*one of"):
        config_from_data({"image": "busybox", "restart": {"name": "sometimes"}})
    with pytest.raises(InvalidArgument, match=r"colour.*unknown setting"):
        config_from_data({"image": "busybox", "colour": "blue"})
    with pytest.raises(InvalidArgument, match=r"cmd\[1\].*string"):
        config_from_data({"image": "busybox", "cmd": ["echo", 7]})
    with pytest.raises(
        InvalidArgument, match=r"resources\.ulimits\[0\]\.soft.*integer"
    ):
        config_from_data(
            {
                "image": "busybox",
                "resources": {"ulimits": [{"name": "nofile", "soft": "x", "hard": 2}]},
            }
        )


def test_a_config_file_is_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text(
        'default_runtime = "runc"\nmax_concurrent_downloads = 8\n'
        '[registries."docker.io"]\nmirrors = ["127.0.0.1:5000"]\n'
    )
    config = load_config(good)
    assert config.default_runtime == "runc"
    assert config.max_concurrent_downloads == 8
    assert config.registry("docker.io") == RegistryConfig(mirrors=["127.0.0.1:5000"])

    for text, problem in [
        (
            "max_concurrent_downloads = 0",
            "max_concurrent_downloads: must be at least 1",
        ),
        ('default_runtime = "kata"', "default_runtime: must be one of"),
        ("[registries.x]\nmirror = []", "registries.x.mirror: unknown setting"),
        ("insecure_registries = 5", "insecure_registries: expected a list"),
    ]:
        bad = tmp_path / "bad.toml"
        bad.write_text(text + "\n")
        with pytest.raises(InvalidArgument, match=problem):
            load_config(bad)


def test_settings_carry_only_what_differs(tmp_path: Path) -> None:
    config = Config(push_chunk_size=1024).with_root(tmp_path)

    assert config.settings() == {"push_chunk_size": 1024}
    assert Config.from_json(config.to_json()) == config
