"""What the CRI validation suite (critest) asks of a runtime beyond the
other CRI tests: each test here is a spec critest failed on Servin."""

from __future__ import annotations

from pathlib import Path

from cri_kit import Cri, exec_sync, pod_config, run_pod, start_container


async def test_a_pod_named_longer_than_a_hostname_gets_its_name_cut(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    name = "PodSandbox-for-test-" + "0123456789abcdef-" * 5
    config = pod_config(tmp_path, name)
    config.ClearField("hostname")

    pod = await run_pod(cri, config)
    container = await start_container(cri, pod, config, image, "c", "sleep", "60")

    hostname = (await exec_sync(cri, container, "hostname")).stdout.decode()
    assert hostname == name[:63].rstrip("-") + "\n"
