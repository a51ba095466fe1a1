"""Platform names, the host's platform and choosing from an index."""

from __future__ import annotations

import platform as std_platform

import pytest

from servin_core.errors import InvalidArgument, NotFound
from servin_core.images.platform import Platform, host_platform, select_manifest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux/amd64", "linux/amd64"),
        ("linux/x86_64", "linux/amd64"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/6", "linux/arm/v6"),
        ("arm64", "linux/arm64"),
        ("Linux/AMD64", "linux/amd64"),
    ],
)
def test_parse_normalizes_as_docker_does(text: str, expected: str) -> None:
    assert str(Platform.parse(text)) == expected


@pytest.mark.parametrize("text", ["", "linux/", "a/b/c/d", "/amd64"])
def test_parse_rejects_malformed_platforms(text: str) -> None:
    with pytest.raises(InvalidArgument, match="os/arch"):
        Platform.parse(text)


def test_host_platform_is_the_machine() -> None:
    machine = std_platform.machine()
    expected = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    assert host_platform().os == "linux"
    assert host_platform().architecture == expected


def _entry(os: str, arch: str, variant: str | None = None) -> dict[str, object]:
    platform: dict[str, str] = {"os": os, "architecture": arch}
    if variant:
        platform["variant"] = variant
    return {"digest": f"{os}-{arch}-{variant}", "platform": platform}


def test_select_prefers_exact_variant_and_accepts_older_arm() -> None:
    entries = [
        _entry("unknown", "unknown"),
        _entry("linux", "arm", "v6"),
        _entry("linux", "arm", "v7"),
        _entry("linux", "arm64", "v8"),
        _entry("linux", "amd64"),
    ]
    pick = select_manifest(entries, Platform.parse("linux/arm/v7"), ident="x")
    assert pick["digest"] == "linux-arm-v7"
    pick = select_manifest(entries[:2], Platform.parse("linux/arm/v7"), ident="x")
    assert pick["digest"] == "linux-arm-v6"
    pick = select_manifest(entries, Platform.parse("linux/arm64"), ident="x")
    assert pick["digest"] == "linux-arm64-v8"
    pick = select_manifest(entries, Platform.parse("linux/amd64"), ident="x")
    assert pick["digest"] == "linux-amd64-None"


def test_select_names_what_the_index_offers() -> None:
    entries = [_entry("linux", "amd64"), _entry("linux", "arm64")]
    with pytest.raises(NotFound, match=r"linux/s390x.*linux/amd64, linux/arm64"):
        select_manifest(entries, Platform.parse("linux/s390x"), ident="img")
