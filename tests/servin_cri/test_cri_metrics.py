"""The CRI metrics kubelet's CRI stats path scrapes in place of cAdvisor:
their descriptors, a busy container's figures and its pod's network, and
CheckpointContainer's refusal."""

from __future__ import annotations

import socket
from pathlib import Path

import grpc
import pytest
from cri_kit import Cri, StartCri, eventually, pod_config, run_pod, start_container
from netconfig import session_config

from servin_cri.pb import api_pb2 as pb

_BASE = ["container", "id", "image", "name", "namespace", "pod"]

# 30 MB held in a shell variable (anonymous memory), then a busy loop.
_BURN = "x=$(head -c 30000000 /dev/zero | tr '\\0' a); while :; do :; done"


def _by_name(metrics: list[pb.Metric]) -> dict[str, list[pb.Metric]]:
    found: dict[str, list[pb.Metric]] = {}
    for metric in metrics:
        found.setdefault(metric.name, []).append(metric)
    return found


async def test_descriptors_name_each_metric_with_its_label_keys(cri: Cri) -> None:
    answer = await cri.runtime.ListMetricDescriptors(pb.ListMetricDescriptorsRequest())
    keys = {d.name: list(d.label_keys) for d in answer.descriptors}

    assert keys["container_cpu_usage_seconds_total"] == _BASE
    assert keys["container_memory_working_set_bytes"] == _BASE
    assert keys["container_network_receive_bytes_total"] == [*_BASE, "interface"]
    assert keys["container_fs_usage_bytes"] == [*_BASE, "device"]
    assert keys["container_memory_failures_total"] == [
        *_BASE,
        "failure_type",
        "scope",
    ]
    assert keys["container_blkio_device_usage_total"] == [
        *_BASE,
        "device",
        "major",
        "minor",
        "operation",
    ]
    assert {
        "container_memory_rss",
        "container_oom_events_total",
        "container_spec_memory_limit_bytes",
        "container_threads",
        "container_network_transmit_packets_dropped_total",
        "container_start_time_seconds",
        "container_cpu_cfs_throttled_seconds_total",
        "container_fs_inodes_free",
        "container_sockets",
    } <= set(keys)
    assert all(d.help for d in answer.descriptors)


async def test_a_busy_container_and_its_pod_show_in_the_metrics(
    start_cri: StartCri, published: list[str], tmp_path: Path
) -> None:
    cri = await start_cri(session_config(tmp_path / "unused"), fallback=True)
    image = published[0]
    await cri.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=image)))
    config = pod_config(tmp_path, "metered")
    pod = await run_pod(cri, config)
    busy = await start_container(cri, pod, config, image, "burn", "sh", "-c", _BURN)
    status = await cri.runtime.PodSandboxStatus(
        pb.PodSandboxStatusRequest(pod_sandbox_id=pod)
    )
    # A connection to a closed port: a SYN in, a reset out, on the pod's eth0.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((status.status.network.ip, 9), timeout=30).close()

    async def busy_enough() -> pb.PodSandboxMetrics | None:
        answer = await cri.runtime.ListPodSandboxMetrics(
            pb.ListPodSandboxMetricsRequest()
        )
        mine = [p for p in answer.pod_metrics if p.pod_sandbox_id == pod]
        if not mine or not mine[0].container_metrics:
            return None
        found = _by_name(list(mine[0].container_metrics[0].metrics))
        # The busy loop runs in user mode: a whole second there first.
        user = found["container_cpu_user_seconds_total"][0].value.value
        rss = found["container_memory_rss"][0].value.value
        return mine[0] if user >= 1 and rss >= 30_000_000 else None

    metrics = await eventually(busy_enough, "a second of CPU and 30 MB of memory")
    assert metrics is not None

    [container] = metrics.container_metrics
    assert container.container_id == busy
    found = _by_name(list(container.metrics))
    cpu = found["container_cpu_usage_seconds_total"][0]
    assert cpu.metric_type == pb.MetricType.COUNTER
    assert dict(zip(_BASE, cpu.label_values, strict=True)) == {
        "container": "burn",
        "id": busy,
        "image": cpu.label_values[2],
        "name": cpu.label_values[3],
        "namespace": "default",
        "pod": "metered",
    }
    assert image.rsplit(":", 1)[0] in cpu.label_values[2]
    assert cpu.value.value >= 1
    assert "container_cpu_system_seconds_total" in found
    working_set = found["container_memory_working_set_bytes"][0]
    assert working_set.metric_type == pb.MetricType.GAUGE
    assert working_set.value.value >= 30_000_000
    assert found["container_processes"][0].value.value >= 1
    assert found["container_threads"][0].value.value >= 1
    assert found["container_spec_memory_limit_bytes"][0].value.value == 0

    network = _by_name(list(metrics.metrics))
    received = network["container_network_receive_packets_total"]
    sent = network["container_network_transmit_packets_total"]
    assert [m.label_values[-1] for m in received] == ["eth0"]
    assert received[0].label_values[5] == "metered"
    assert received[0].value.value > 0 and sent[0].value.value > 0


async def test_the_metrics_stream_gives_what_the_list_gives(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    running = await start_container(cri, pod, config, image, "s", "sleep", "3600")

    streamed = [
        p
        async for m in cri.runtime.StreamPodSandboxMetrics(
            pb.StreamPodSandboxMetricsRequest()
        )
        for p in m.pod_sandbox_metrics
    ]

    assert [p.pod_sandbox_id for p in streamed] == [pod]
    assert [c.container_id for c in streamed[0].container_metrics] == [running]
    # A pod on loopback alone has no interface to report.
    assert not streamed[0].metrics


async def test_a_stopped_container_leaves_the_metrics(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    running = await start_container(cri, pod, config, image, "s", "sleep", "3600")
    await cri.runtime.StopContainer(
        pb.StopContainerRequest(container_id=running, timeout=0)
    )

    answer = await cri.runtime.ListPodSandboxMetrics(pb.ListPodSandboxMetricsRequest())

    assert [p.pod_sandbox_id for p in answer.pod_metrics] == [pod]
    assert not answer.pod_metrics[0].container_metrics


async def test_checkpointing_a_container_is_unimplemented_naming_it(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    running = await start_container(cri, pod, config, image, "s", "sleep", "3600")

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.CheckpointContainer(
            pb.CheckpointContainerRequest(container_id=running, location="/tmp/x.tar")
        )

    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert running in (caught.value.details() or "")
    assert "checkpointing is not supported" in (caught.value.details() or "")


async def test_a_limited_container_reports_its_limits_and_throttling(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    config = pod_config(tmp_path)
    pod = await run_pod(cri, config)
    resources = pb.LinuxContainerResources(
        cpu_period=100000,
        cpu_quota=20000,
        cpu_shares=512,
        memory_limit_in_bytes=64 << 20,
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(
            pod_sandbox_id=pod,
            sandbox_config=config,
            config=pb.ContainerConfig(
                metadata=pb.ContainerMetadata(name="capped"),
                image=pb.ImageSpec(image=image),
                command=["sh", "-c", "while :; do :; done"],
                linux=pb.LinuxContainerConfig(resources=resources),
            ),
        )
    )
    await cri.runtime.StartContainer(
        pb.StartContainerRequest(container_id=created.container_id)
    )

    async def throttled() -> dict[str, list[pb.Metric]] | None:
        answer = await cri.runtime.ListPodSandboxMetrics(
            pb.ListPodSandboxMetricsRequest()
        )
        [mine] = answer.pod_metrics
        found = _by_name(list(mine.container_metrics[0].metrics))
        periods = found["container_cpu_cfs_throttled_periods_total"][0]
        return found if periods.value.value > 0 else None

    found = await eventually(throttled, "the busy loop to be throttled")
    assert found is not None

    def value(name: str) -> int:
        return int(found[name][0].value.value)

    assert value("container_spec_cpu_quota") == 20000
    assert value("container_spec_cpu_period") == 100000
    # cgroup v2 keeps a weight, which maps back to shares within rounding.
    assert 500 <= value("container_spec_cpu_shares") <= 512
    assert value("container_spec_memory_limit_bytes") == 64 << 20
    assert value("container_cpu_cfs_periods_total") > 0
    assert found["container_cpu_cfs_periods_total"][0].metric_type == (
        pb.MetricType.COUNTER
    )
    disk = found["container_fs_limit_bytes"][0]
    assert (
        disk.label_values[-1] == found["container_fs_usage_bytes"][0].label_values[-1]
    )
    assert value("container_fs_inodes_total") >= value("container_fs_inodes_free") > 0
    faults = {
        tuple(m.label_values[-2:]) for m in found["container_memory_failures_total"]
    }
    assert ("pgfault", "container") in faults
