"""The server itself: its socket, UNIMPLEMENTED answers, stopping."""

import stat

import grpc
import pytest
from cri_kit import Cri, StartCri

from servin_cri import routes
from servin_cri.pb import api_pb2 as pb


async def test_the_socket_is_for_root_and_its_group_only(cri: Cri) -> None:
    mode = cri.server.socket_path.stat().st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o660


async def test_an_rpc_not_implemented_says_which(cri: Cri) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.CheckpointPod(pb.CheckpointPodRequest(pod_sandbox_id="x"))
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "CheckpointPod" in (caught.value.details() or "")


async def test_stop_removes_the_socket_and_a_restart_takes_it_again(
    cri: Cri,
) -> None:
    path = cri.server.socket_path
    await cri.server.stop()
    assert not path.exists()

    await cri.server.start()
    assert stat.S_ISSOCK(path.stat().st_mode)


async def test_a_streaming_rpc_not_implemented_says_which(
    start_cri: StartCri, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every streaming RPC has a route now: take one away to see the answer.
    monkeypatch.delitem(routes.RUNTIME_STREAMS, "StreamPodSandboxMetrics")
    cri = await start_cri()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in cri.runtime.StreamPodSandboxMetrics(
            pb.StreamPodSandboxMetricsRequest()
        ):
            pass
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "StreamPodSandboxMetrics" in (caught.value.details() or "")
