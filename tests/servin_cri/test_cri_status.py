"""Version, Status and RuntimeConfig, as kubelet reads them at start-up."""

import json
import logging

import pytest
from cri_kit import Cri

from servin_cri.pb import api_pb2 as pb

BRIDGE = {
    "cniVersion": "1.0.0",
    "name": "pods",
    "plugins": [
        {"type": "bridge", "bridge": "cni-test0", "ipam": {"type": "host-local"}},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ],
}


def conditions(response: pb.StatusResponse) -> dict[str, pb.RuntimeCondition]:
    return {c.type: c for c in response.status.conditions}


async def test_version_names_servin_and_cri_v1(cri: Cri) -> None:
    answer = await cri.runtime.Version(pb.VersionRequest(version="v1"))
    assert answer.runtime_name == "servin"
    assert answer.runtime_api_version == "v1"
    assert answer.runtime_version


async def test_the_network_is_not_ready_without_a_cni_configuration(
    cri: Cri,
) -> None:
    answer = await cri.runtime.Status(pb.StatusRequest())
    found = conditions(answer)

    assert found["RuntimeReady"].status is True
    assert found["NetworkReady"].status is False
    assert found["NetworkReady"].reason == "NetworkPluginNotReady"
    assert str(cri.cni_dir) in found["NetworkReady"].message


async def test_a_configuration_naming_a_missing_plugin_is_not_usable(
    cri: Cri,
) -> None:
    broken = {**BRIDGE, "plugins": [{"type": "no-such-plugin"}]}
    (cri.cni_dir / "10-broken.conflist").write_text(json.dumps(broken))

    found = conditions(await cri.runtime.Status(pb.StatusRequest()))
    assert found["NetworkReady"].status is False
    assert "10-broken.conflist: no plugin no-such-plugin" in (
        found["NetworkReady"].message
    )


async def test_the_network_is_ready_with_a_usable_configuration(cri: Cri) -> None:
    (cri.cni_dir / "10-pods.conflist").write_text(json.dumps(BRIDGE))

    answer = await cri.runtime.Status(pb.StatusRequest(verbose=True))
    found = conditions(answer)
    assert found["NetworkReady"].status is True
    assert found["NetworkReady"].reason == ""
    assert json.loads(answer.info["config"])["cniConfig"].endswith("10-pods.conflist")


async def test_the_cgroup_driver_is_cgroupfs(cri: Cri) -> None:
    answer = await cri.runtime.RuntimeConfig(pb.RuntimeConfigRequest())
    assert answer.linux.cgroup_driver == pb.CGROUPFS


async def test_each_rpc_is_logged_with_its_duration(
    cri: Cri, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="servin.cri"):
        await cri.runtime.Version(pb.VersionRequest())
    lines = [r.getMessage() for r in caplog.records if r.name == "servin.cri"]
    assert "[rpc=Version] start" in lines
    assert any(line.startswith("[rpc=Version] done in ") for line in lines)


async def test_status_names_the_runtime_handlers(cri: Cri) -> None:
    answer = await cri.runtime.Status(pb.StatusRequest())
    names = [h.name for h in answer.runtime_handlers]
    assert names[0] == ""
    assert set(names[1:]) == {"crun", "runc"}  # both installed here
