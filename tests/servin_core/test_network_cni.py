"""The CNI runner against Debian's real plugins, without a container: a
pinned namespace, a bridge of the test's own, ADD, CHECK, DEL and VERSION,
and a plugin's own error words."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from servin_core.network.cni import CniError, CniRequest, run_list, version
from servin_core.network.cni_version import negotiate
from servin_core.network.conflist import build_conflist
from servin_core.network.model import Endpoint, Network
from servin_core.network.netns import create_netns, remove_netns
from servin_core.network.subnets import host_routes


@pytest.fixture
def network() -> Iterator[Network]:
    taken = [route for _, route in host_routes()]
    subnet = next(
        str(candidate)
        for candidate in ipaddress.ip_network("10.224.0.0/12").subnets(new_prefix=24)
        if not any(candidate.overlaps(t) for t in taken)
    )
    bridge = f"svcni{os.getpid() % 100000}"
    yield Network(
        "ab" * 32, "cnitest", "bridge", bridge, subnet,
        subnet.replace(".0/24", ".1"), True, False, {}, {}, 0.0,
    )  # fmt: skip
    subprocess.run(["ip", "link", "del", bridge], capture_output=True)


@pytest.fixture
def netns(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "ns"
    create_netns(path)
    yield path
    remove_netns(path)


def _in(netns: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nsenter", f"--net={netns}", *args], capture_output=True, text=True
    )


def test_add_check_and_del_through_the_bridge(
    network: Network, netns: Path, tmp_path: Path
) -> None:
    endpoint = Endpoint("cd" * 32, network.id, "eth0")
    conflist = build_conflist(tmp_path, network, endpoint)
    request = CniRequest(endpoint.container_id, str(netns), "eth0", network.name)

    result = run_list("ADD", request, conflist)
    address = result["ips"][0]["address"]
    checked = run_list("CHECK", request, {**conflist, "prevResult": result})
    inside = _in(netns, "ip", "-o", "-4", "addr", "show", "eth0").stdout
    run_list("DEL", request, {**conflist, "prevResult": result})
    after = _in(netns, "ip", "-o", "link").stdout

    assert address == network.subnet.replace(".0/24", ".2/24")
    assert checked == result
    assert f"inet {address}" in inside
    assert "eth0" not in after
    assert os.listdir(f"/sys/class/net/{network.bridge}/brif") == []


def test_check_fails_once_the_interface_is_gone(
    network: Network, netns: Path, tmp_path: Path
) -> None:
    endpoint = Endpoint("ef" * 32, network.id, "eth0")
    conflist = build_conflist(tmp_path, network, endpoint)
    request = CniRequest(endpoint.container_id, str(netns), "eth0", network.name)
    result = run_list("ADD", request, conflist)
    _in(netns, "ip", "link", "del", "eth0")

    with pytest.raises(CniError) as failure:
        run_list("CHECK", request, {**conflist, "prevResult": result})

    assert str(failure.value).startswith("network cnitest: bridge CHECK: ")
    run_list("DEL", request, {**conflist, "prevResult": result})


def test_version_lists_what_the_plugin_speaks() -> None:
    assert "1.0.0" in version("bridge")["supportedVersions"]


def test_a_missing_plugin_is_named() -> None:
    request = CniRequest("01" * 32, "", "eth0", "odd")
    conflist = {"cniVersion": "1.0.0", "name": "odd", "plugins": [{"type": "nope"}]}

    with pytest.raises(CniError, match="network odd: CNI plugin nope not found in"):
        run_list("ADD", request, conflist)


def _plugin(directory: Path, name: str, versions: list[str]) -> None:
    """An executable that answers VERSION as a plugin of that age would."""
    answer = json.dumps({"cniVersion": versions[-1], "supportedVersions": versions})
    path = directory / name
    path.write_text(f"#!/bin/sh\necho '{answer}'\n")
    path.chmod(0o755)


def test_the_version_spoken_is_the_best_all_plugins_share(tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    _plugin(plugins, "new", ["0.3.1", "0.4.0", "1.0.0"])
    _plugin(plugins, "old", ["0.3.0", "0.3.1", "0.4.0"])
    cache = tmp_path / "cni-version.json"

    both = negotiate(["new", "old"], cache, "net", (plugins,))
    _plugin(plugins, "old", ["0.2.0", "0.3.1", "0.4.0", "1.0.0"])  # upgraded
    after_upgrade = negotiate(["new", "old"], cache, "net", (plugins,))

    assert (both, after_upgrade) == ("0.4.0", "1.0.0")
    assert negotiate(["bridge", "host-local", "portmap"], cache, "net") == "1.0.0"


def test_plugins_with_no_version_in_common_are_refused(tmp_path: Path) -> None:
    _plugin(tmp_path, "ancient", ["0.1.0", "0.2.0"])

    with pytest.raises(CniError, match="network net: the CNI plugins ancient share"):
        negotiate(["ancient"], tmp_path / "cache.json", "net", (tmp_path,))
