"""apply_resources on spec dicts, and the parsers of docker's flags."""

from __future__ import annotations

import os
import resource
from typing import Any

import pytest

from servin_core.containers.model import ContainerConfig, Device, Resources, Ulimit
from servin_core.containers.resources import (
    apply_resources,
    parse_bytes,
    parse_cpus,
    parse_device,
    parse_ulimit,
)
from servin_core.errors import InvalidArgument

MIB = 1024 * 1024


def _apply(**resources: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"process": {}, "linux": {}}
    config = ContainerConfig(image="busybox", resources=Resources(**resources))
    apply_resources(spec, config)
    return spec


def _limits(spec: dict[str, Any]) -> dict[str, Any]:
    limits: dict[str, Any] = spec["linux"]["resources"]
    return limits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1024", 1024),
        ("0", 0),
        ("64k", 64 * 1024),
        ("512m", 512 * MIB),
        ("512M", 512 * MIB),
        ("1g", 1024 * MIB),
        ("1.5g", 1536 * MIB),
        ("2t", 2 * 1024**4),
        ("1p", 1024**5),
        ("10b", 10),
        ("10kb", 10 * 1024),
        ("10KiB", 10 * 1024),
        ("100 m", 100 * MIB),
    ],
)
def test_parse_bytes_as_docker(text: str, expected: int) -> None:
    assert parse_bytes(text) == expected


@pytest.mark.parametrize(
    "text", ["", "m", "-1m", "1x", "1.2.3g", "ten", "1gg", "1 g b"]
)
def test_parse_bytes_refuses_with_the_value(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_bytes(text)
    assert caught.value.ident == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1.5", 1_500_000_000), ("0.01", 10_000_000), ("2", 2_000_000_000), ("0", 0)],
)
def test_parse_cpus(text: str, expected: int) -> None:
    assert parse_cpus(text) == expected


@pytest.mark.parametrize("text", ["", "one", "-1", "0.0000000001", "1/0"])
def test_parse_cpus_refuses_with_the_value(text: str) -> None:
    with pytest.raises(InvalidArgument, match="cpus"):
        parse_cpus(text)


def test_parse_ulimit() -> None:
    assert parse_ulimit("nofile=1024:2048") == Ulimit(
        name="nofile", soft=1024, hard=2048
    )
    assert parse_ulimit("nproc=512") == Ulimit(name="nproc", soft=512, hard=512)
    assert parse_ulimit("memlock=-1:-1") == Ulimit(name="memlock", soft=-1, hard=-1)


@pytest.mark.parametrize(
    "text", ["nofile", "nofile=", "files=10", "nofile=a:b", "nofile=2048:1024", "=1"]
)
def test_parse_ulimit_refuses_with_the_value(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_ulimit(text)
    assert caught.value.ident == text


def test_parse_device_forms() -> None:
    assert parse_device("/dev/fuse") == Device(
        host_path="/dev/fuse", container_path="/dev/fuse", permissions="rwm"
    )
    assert parse_device("/dev/a:/dev/b") == Device(
        host_path="/dev/a", container_path="/dev/b"
    )
    assert parse_device("/dev/a:/dev/b:rw").permissions == "rw"
    short = parse_device("/dev/a:r")
    assert (short.container_path, short.permissions) == ("/dev/a", "r")


@pytest.mark.parametrize(
    "text",
    ["", ":/dev/b", "/dev/a:/dev/b:rwx", "/dev/a:b", "/dev/a:/b:rw:x", "/a:/b:rr"],
)
def test_parse_device_refuses_with_the_value(text: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_device(text)
    assert caught.value.ident == text


def test_memory_with_dockers_default_swap() -> None:
    memory = _limits(_apply(memory=64 * MIB))["memory"]
    assert memory == {"limit": 64 * MIB, "swap": 128 * MIB}


def test_memory_swap_given_and_unlimited() -> None:
    given = _limits(_apply(memory=64 * MIB, memory_swap=100 * MIB))["memory"]
    assert given["swap"] == 100 * MIB
    unlimited = _limits(_apply(memory=64 * MIB, memory_swap=-1))["memory"]
    assert unlimited["swap"] == -1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"memory_swap": 100 * MIB}, "memory limit together"),
        ({"memory": 64 * MIB, "memory_swap": 32 * MIB}, "at least the memory"),
        ({"memory": 1024}, "minimum is 6MiB"),
    ],
)
def test_invalid_memory_combinations(fields: dict[str, int], reason: str) -> None:
    with pytest.raises(InvalidArgument, match=reason):
        _apply(**fields)


def test_no_limits_asked_none_set() -> None:
    limits = _apply()["linux"]["resources"]
    assert limits == {}


def test_cpus_become_quota_over_a_100ms_period() -> None:
    cpu = _limits(_apply(nano_cpus=1_500_000_000, cpu_shares=512))["cpu"]
    assert cpu == {"quota": 150_000, "period": 100_000, "shares": 512}


def test_cpus_outside_the_machines_range_are_refused() -> None:
    too_many = ((os.cpu_count() or 1) + 1) * 1_000_000_000
    with pytest.raises(InvalidArgument, match="range"):
        _apply(nano_cpus=too_many)
    with pytest.raises(InvalidArgument, match="range"):
        _apply(nano_cpus=1_000_000)


def test_pids_limit() -> None:
    assert _limits(_apply(pids_limit=100))["pids"] == {"limit": 100}
    assert "pids" not in _limits(_apply(pids_limit=-1))
    assert "pids" not in _limits(_apply(pids_limit=0))


def _rlimits(spec: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {r["type"]: (r["soft"], r["hard"]) for r in spec["process"]["rlimits"]}


def test_rlimits_default_to_the_callers_own() -> None:
    rlimits = _rlimits(_apply())
    assert rlimits["RLIMIT_NOFILE"] == resource.getrlimit(resource.RLIMIT_NOFILE)
    assert rlimits["RLIMIT_NPROC"] == resource.getrlimit(resource.RLIMIT_NPROC)


def test_ulimits_replace_the_defaults() -> None:
    ulimits = (
        Ulimit(name="nofile", soft=100, hard=200),
        Ulimit(name="core", soft=0, hard=0),
    )
    rlimits = _rlimits(_apply(ulimits=ulimits))
    assert rlimits["RLIMIT_NOFILE"] == (100, 200)
    assert rlimits["RLIMIT_CORE"] == (0, 0)


def test_a_ulimit_above_the_callers_hard_limit_is_refused() -> None:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard == resource.RLIM_INFINITY:
        pytest.skip("no hard limit on open files here to exceed")
    ulimit = Ulimit(name="nofile", soft=1024, hard=hard + 1)
    with pytest.raises(InvalidArgument, match="nofile"):
        _apply(ulimits=(ulimit,))
    unlimited = Ulimit(name="nofile", soft=-1, hard=-1)
    with pytest.raises(InvalidArgument, match="above Servin's own hard limit"):
        _apply(ulimits=(unlimited,))
