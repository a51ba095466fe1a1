"""The server itself: its socket, UNIMPLEMENTED answers, stopping."""

import stat

import grpc
import pytest
from cri_kit import Cri

from servin_cri.pb import api_pb2 as pb


async def test_the_socket_is_for_root_and_its_group_only(cri: Cri) -> None:
    mode = cri.server.socket_path.stat().st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o660


async def test_an_rpc_not_implemented_says_which(cri: Cri) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await cri.runtime.CheckpointContainer(
            pb.CheckpointContainerRequest(container_id="x")
        )
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "CheckpointContainer" in (caught.value.details() or "")


async def test_stop_removes_the_socket_and_a_restart_takes_it_again(
    cri: Cri,
) -> None:
    path = cri.server.socket_path
    await cri.server.stop()
    assert not path.exists()

    await cri.server.start()
    assert stat.S_ISSOCK(path.stat().st_mode)


async def test_a_streaming_rpc_not_implemented_says_which(cri: Cri) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in cri.runtime.StreamPodSandboxMetrics(
            pb.StreamPodSandboxMetricsRequest()
        ):
            pass
    assert caught.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "StreamPodSandboxMetrics" in (caught.value.details() or "")
