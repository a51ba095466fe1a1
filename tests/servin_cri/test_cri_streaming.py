"""Exec, Attach and PortForward through the CRI and its streaming server,
with the clients kubelet's side would use: WebSocket (aiohttp's client) and
SPDY/3.1 (spdy_client.py), against real containers."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from base64 import b64decode
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import pytest
from cri_kit import Cri, eventually
from spdy_client import SpdyClient

from servin_cri.pb import api_pb2 as pb
from servin_cri.streaming.spdy_dictionary import SPDY3_DICTIONARY

SUCCESS = {"metadata": {}, "status": "Success"}
PAGE = "servin-page"
HTTPD = (
    "sh",
    "-c",
    f"mkdir -p /www && echo {PAGE} > /www/index.html && exec httpd -f -p 8080 -h /www",
)


@pytest.fixture
async def ready(cri: Cri, published: list[str]) -> tuple[Cri, str]:
    image = published[0]
    await cri.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=image)))
    return cri, image


async def pod_with(
    cri: Cri,
    tmp_path: Path,
    image: str,
    *command: str,
    tty: bool = False,
    stdin: bool = False,
) -> tuple[str, str]:
    """A pod with one running container; (pod ID, container ID)."""
    meta = pb.PodSandboxMetadata(name="streams", namespace="default", uid="uid-s")
    config = pb.PodSandboxConfig(
        metadata=meta, hostname="streams", log_directory=str(tmp_path / "logs")
    )
    pod = await cri.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config))
    container = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name="app"),
        image=pb.ImageSpec(image=image),
        command=list(command),
        log_path="app/0.log",
        tty=tty,
        stdin=stdin,
    )
    created = await cri.runtime.CreateContainer(
        pb.CreateContainerRequest(
            pod_sandbox_id=pod.pod_sandbox_id, config=container, sandbox_config=config
        )
    )
    await cri.runtime.StartContainer(
        pb.StartContainerRequest(container_id=created.container_id)
    )
    return pod.pod_sandbox_id, created.container_id


async def exec_url(cri: Cri, container: str, *cmd: str, **streams: bool) -> str:
    request = pb.ExecRequest(container_id=container, cmd=list(cmd), **streams)
    answer = await cri.runtime.Exec(request)
    return str(answer.url)


async def ws_session(
    url: str, protocol: str, send: list[bytes] | None = None
) -> tuple[str | None, dict[int, bytes]]:
    """Connect, send ``send``, and gather every channel's bytes until the
    server closes; the negotiated protocol and the bytes by channel."""
    received: dict[int, bytearray] = {}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=(protocol,)) as ws,
    ):
        for outgoing in send or []:
            await ws.send_bytes(outgoing)
        async for message in ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                channel, data = message.data[0], message.data[1:]
            else:  # base64: an ASCII digit, then the data
                channel, data = int(message.data[0]), b64decode(message.data[1:])
            received.setdefault(channel, bytearray()).extend(data)
        return ws.protocol, {channel: bytes(got) for channel, got in received.items()}


async def spdy_exec(
    url: str,
    kinds: list[str],
    stdin: bytes | None = None,
    protocol: str = "v4.channel.k8s.io",
) -> dict[str, bytes]:
    """Open the streams ``kinds`` (error first, as clients do), send
    ``stdin`` and close it, and gather what each output stream got."""
    status, headers, client = await SpdyClient.upgrade(url, protocol)
    assert status == 101
    assert headers["x-stream-protocol-version"] == protocol
    ids = {kind: client.open({"streamType": kind}) for kind in kinds}
    if stdin is not None:
        client.send(ids["stdin"], stdin, fin=True)
    try:
        return {
            kind: await client.finished(ids[kind])
            for kind in kinds
            if kind in ("stdout", "stderr", "error")
        }
    finally:
        await client.close()


def status_of(raw: bytes) -> Any:
    return json.loads(raw)


def test_the_spdy_dictionary_is_the_drafts() -> None:
    # sha256 of the 1423-byte table of the SPDY/3 draft (section 2.6.10.1).
    digest = "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"
    assert len(SPDY3_DICTIONARY) == 1423
    assert hashlib.sha256(SPDY3_DICTIONARY).hexdigest() == digest


@pytest.mark.parametrize(
    "protocol", ["v5.channel.k8s.io", "v4.channel.k8s.io", "v4.base64.channel.k8s.io"]
)
async def test_exec_over_websocket_gives_output_and_success(
    ready: tuple[Cri, str], tmp_path: Path, protocol: str
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")
    url = await exec_url(cri, container, "echo", "hello", stdout=True, stderr=True)
    assert url.startswith(cri.server.streaming.base_url + "/exec/")

    negotiated, got = await ws_session(url, protocol)
    assert negotiated == protocol
    assert got[1] == b"hello\n"
    assert status_of(got[3]) == SUCCESS


@pytest.mark.parametrize("protocol", ["v5.channel.k8s.io", "v4.channel.k8s.io"])
async def test_exec_over_spdy_gives_output_and_success(
    ready: tuple[Cri, str], tmp_path: Path, protocol: str
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")
    url = await exec_url(cri, container, "cat", stdin=True, stdout=True, stderr=True)

    kinds = ["error", "stdin", "stdout", "stderr"]
    got = await spdy_exec(url, kinds, stdin=b"through stdin\n", protocol=protocol)
    assert got["stdout"] == b"through stdin\n"
    assert got["stderr"] == b""
    assert status_of(got["error"]) == SUCCESS


async def test_a_non_zero_exit_code_is_reported(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")
    script = "echo oops >&2; exit 3"
    url = await exec_url(cri, container, "sh", "-c", script, stdout=True, stderr=True)
    got = await spdy_exec(url, ["error", "stdout", "stderr"])
    assert got["stderr"] == b"oops\n"
    status = status_of(got["error"])
    assert (status["status"], status["reason"]) == ("Failure", "NonZeroExitCode")
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "3"}]

    url = await exec_url(cri, container, "sh", "-c", "exit 7", stdout=True)
    _, over_ws = await ws_session(url, "v5.channel.k8s.io")
    causes = status_of(over_ws[3])["details"]["causes"]
    assert causes == [{"reason": "ExitCode", "message": "7"}]


async def test_exec_with_a_tty_follows_resizes(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")
    url = await exec_url(cri, container, "sh", tty=True, stdin=True, stdout=True)
    resize = json.dumps({"Width": 100, "Height": 30}).encode()

    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws,
    ):
        await ws.send_bytes(b"\x04" + resize)
        output = b""
        status = b""
        sent = False
        async for message in ws:
            channel, data = message.data[0], message.data[1:]
            if channel == 1:
                output += data
                if not sent:
                    # The shell is up: the size was set before it asked.
                    await ws.send_bytes(b"\x00stty size; exit 0\n")
                    sent = True
            elif channel == 3:
                status += data
    assert b"30 100" in output
    assert status_of(status) == SUCCESS


async def test_exec_with_a_tty_over_spdy_takes_the_resize_stream(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")
    url = await exec_url(cri, container, "sh", tty=True, stdin=True, stdout=True)
    status, _, client = await SpdyClient.upgrade(url, "v4.channel.k8s.io")
    assert status == 101
    try:
        ids = {
            kind: client.open({"streamType": kind})
            for kind in ("error", "stdin", "stdout", "resize")
        }
        client.send(ids["resize"], b'{"Width":120,"Height":40}')

        async def prompt() -> bool:
            return bool(client.streams[ids["stdout"]].data)

        await eventually(prompt, "the shell's prompt")
        client.send(ids["stdin"], b"stty size; exit 0\n")
        output = await client.finished(ids["stdout"])
        error = await client.finished(ids["error"])
    finally:
        await client.close()
    assert b"40 120" in output
    assert status_of(error) == SUCCESS


async def test_attach_sees_a_running_containers_output(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    loop = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"
    _, container = await pod_with(cri, tmp_path, image, "sh", "-c", loop)
    answer = await cri.runtime.Attach(
        pb.AttachRequest(container_id=container, stdout=True, stderr=True)
    )
    assert "/attach/" in answer.url

    seen = b""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(answer.url, protocols=("v5.channel.k8s.io",)) as ws,
    ):
        async for message in ws:
            if message.data[0] == 1:
                seen += message.data[1:]
            if seen.count(b"\n") >= 2:
                break
    assert seen.startswith(b"tick ")

    # Leaving the attach leaves the container running.
    status = await cri.runtime.ContainerStatus(
        pb.ContainerStatusRequest(container_id=container)
    )
    assert status.status.state == pb.CONTAINER_RUNNING


async def serving(cri: Cri, container: str) -> bool:
    probe = await cri.runtime.ExecSync(
        pb.ExecSyncRequest(
            container_id=container,
            cmd=["wget", "-q", "-O", "-", "http://127.0.0.1:8080/index.html"],
            timeout=10,
        )
    )
    return bool(probe.exit_code == 0)


async def test_port_forward_over_spdy_reaches_httpd_in_the_pod(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    pod, container = await pod_with(cri, tmp_path, image, *HTTPD)
    await eventually(lambda: serving(cri, container), "httpd to listen")
    answer = await cri.runtime.PortForward(
        pb.PortForwardRequest(pod_sandbox_id=pod, port=[8080])
    )

    status, headers, client = await SpdyClient.upgrade(answer.url, "portforward.k8s.io")
    assert status == 101
    assert headers["x-stream-protocol-version"] == "portforward.k8s.io"
    try:
        common = {"port": "8080", "requestID": "0"}
        error = client.open({"streamType": "error", **common}, fin=True)
        data = client.open({"streamType": "data", **common})
        client.send(data, b"GET /index.html HTTP/1.0\r\n\r\n", fin=True)
        reply = await client.finished(data)
        assert await client.finished(error) == b""

        # A second connection in the same session, to a port nobody serves:
        # the error stream says so.
        common = {"port": "8081", "requestID": "1"}
        error = client.open({"streamType": "error", **common}, fin=True)
        data = client.open({"streamType": "data", **common})
        refused = await client.finished(error)
        assert await client.finished(data) == b""
    finally:
        await client.close()
    assert reply.startswith(b"HTTP/1.")
    assert reply.endswith(f"\r\n\r\n{PAGE}\n".encode())
    assert b"port 8081" in refused
    assert b"refused" in refused.lower()


async def test_port_forward_over_websocket_reaches_httpd_in_the_pod(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    pod, container = await pod_with(cri, tmp_path, image, *HTTPD)
    await eventually(lambda: serving(cri, container), "httpd to listen")
    answer = await cri.runtime.PortForward(
        pb.PortForwardRequest(pod_sandbox_id=pod, port=[8080])
    )

    request = b"\x00GET /index.html HTTP/1.0\r\n\r\n"
    negotiated, got = await ws_session(answer.url, "portforward.k8s.io", [request])
    assert negotiated == "portforward.k8s.io"
    port = (8080).to_bytes(2, "little")
    assert got[1] == port  # the error channel: the port, then nothing
    assert got[0].startswith(port + b"HTTP/1.")
    assert got[0].endswith(f"\r\n\r\n{PAGE}\n".encode())


async def test_a_used_or_expired_token_is_not_found(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")
    used = await exec_url(cri, container, "true", stdout=True)
    _, got = await ws_session(used, "v5.channel.k8s.io")
    assert status_of(got[3]) == SUCCESS
    late = await exec_url(cri, container, "true", stdout=True)

    tokens = cri.server.streaming.tokens
    tokens.clock = lambda: time.monotonic() + 61
    async with aiohttp.ClientSession() as session:
        for url in (used, late):
            async with session.get(url) as answer:
                assert answer.status == 404, url

    # A protocol the server does not speak: SPDY answers 403, WebSocket 400.
    tokens.clock = time.monotonic
    wrong = await exec_url(cri, container, "true", stdout=True)
    status, _, client = await SpdyClient.upgrade(wrong, "v1.channel.k8s.io")
    await client.close()
    assert status == 403
    wrong = await exec_url(cri, container, "true", stdout=True)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await ws_session(wrong, "channel.k8s.io")
    assert refused.value.status == 400


async def test_bad_streaming_requests_are_refused(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")
    cases: list[tuple[Any, grpc.StatusCode, str]] = [
        (
            cri.runtime.Exec(
                pb.ExecRequest(container_id="f00d", cmd=["true"], stdout=True)
            ),
            grpc.StatusCode.NOT_FOUND,
            "f00d",
        ),
        (
            cri.runtime.Exec(
                pb.ExecRequest(
                    container_id=container, cmd=["true"], tty=True, stderr=True
                )
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "stderr",
        ),
        (
            cri.runtime.Exec(pb.ExecRequest(container_id=container, cmd=["true"])),
            grpc.StatusCode.INVALID_ARGUMENT,
            "stdin, stdout and stderr",
        ),
        (
            cri.runtime.Attach(pb.AttachRequest(container_id="f00d", stdout=True)),
            grpc.StatusCode.NOT_FOUND,
            "f00d",
        ),
        (
            cri.runtime.PortForward(
                pb.PortForwardRequest(pod_sandbox_id="beef", port=[80])
            ),
            grpc.StatusCode.NOT_FOUND,
            "beef",
        ),
    ]
    for call, code, words in cases:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await call
        assert caught.value.code() == code
        assert words in (caught.value.details() or "")


async def test_v5_closes_stdin_with_its_close_message(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")
    url = await exec_url(cri, container, "cat", stdin=True, stdout=True)
    # cat ends only when its stdin does: channel 255 closes stream 0.
    send = [b"\x00first line\n", b"\xff\x00"]
    _, got = await ws_session(url, "v5.channel.k8s.io", send)
    assert got[1] == b"first line\n"
    assert status_of(got[3]) == SUCCESS


async def test_a_command_that_cannot_run_is_a_failure_naming_it(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")
    url = await exec_url(cri, container, "no-such-command", stdout=True)
    _, got = await ws_session(url, "v5.channel.k8s.io")
    status = status_of(got[3])
    assert status["status"] == "Failure"
    assert "no-such-command" in status["message"]


async def test_attach_with_a_tty_takes_input_and_resizes(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sh", tty=True, stdin=True)
    answer = await cri.runtime.Attach(
        pb.AttachRequest(container_id=container, stdin=True, stdout=True, tty=True)
    )
    status, _, client = await SpdyClient.upgrade(answer.url, "v4.channel.k8s.io")
    assert status == 101
    try:
        ids = {
            kind: client.open({"streamType": kind})
            for kind in ("error", "stdin", "stdout", "resize")
        }
        client.send(ids["resize"], b'{"Width":90,"Height":25}')

        async def sized() -> bool:
            # conmon applies the size on its own time: ask until it shows.
            client.send(ids["stdin"], b"stty size\n")
            await asyncio.sleep(0.1)
            return b"25 90" in client.streams[ids["stdout"]].data

        await eventually(sized, "the attached shell to see the new size")
    finally:
        await client.close()

    still = await cri.runtime.ContainerStatus(
        pb.ContainerStatusRequest(container_id=container)
    )
    assert still.status.state == pb.CONTAINER_RUNNING


async def test_a_client_that_goes_away_ends_its_command(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")

    async def processes() -> str:
        answer = await cri.runtime.ExecSync(
            pb.ExecSyncRequest(container_id=container, cmd=["ps"], timeout=10)
        )
        return str(answer.stdout.decode())

    url = await exec_url(cri, container, "sleep", "1234", stdout=True)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=("v5.channel.k8s.io",)),
    ):

        async def running() -> bool:
            return "sleep 1234" in await processes()

        await eventually(running, "the exec'd command to run")

    async def ended() -> bool:
        return "sleep 1234" not in await processes()

    await eventually(ended, "the command to end with its client")


async def test_attach_ends_with_the_container(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    script = "read line; echo bye $line"
    _, container = await pod_with(cri, tmp_path, image, "sh", "-c", script, stdin=True)
    answer = await cri.runtime.Attach(
        pb.AttachRequest(container_id=container, stdin=True, stdout=True)
    )
    # The container reads the line, answers and exits: the server then
    # sends the status and closes.
    _, got = await ws_session(answer.url, "v5.channel.k8s.io", [b"\x00now\n"])
    assert got[1] == b"bye now\n"
    assert status_of(got[3]) == SUCCESS


async def test_stopping_the_server_ends_open_streams_and_their_commands(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")

    async def processes() -> str:
        answer = await cri.runtime.ExecSync(
            pb.ExecSyncRequest(container_id=container, cmd=["ps"], timeout=10)
        )
        return str(answer.stdout.decode())

    url = await exec_url(cri, container, "sleep", "4321", stdout=True)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url, protocols=("v5.channel.k8s.io",)) as ws,
    ):

        async def running() -> bool:
            return "sleep 4321" in await processes()

        await eventually(running, "the exec'd command to run")
        reading = asyncio.ensure_future(ws.receive_bytes())
        await cri.server.streaming.stop()
        last = await reading
    assert last[0] == 3
    assert "stopping" in status_of(last[1:])["message"]

    async def ended() -> bool:
        return "sleep 4321" not in await processes()

    await eventually(ended, "the command to end with the server")
