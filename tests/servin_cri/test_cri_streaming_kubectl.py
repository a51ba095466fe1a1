"""kubectl's exec, attach and port-forward reach the CRI streaming server
through fake_apiserver.py, as they would through the API server and
kubelet: the real client, over SPDY/3.1 and over WebSocket."""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import shutil
import struct
import termios
from pathlib import Path

import aiohttp
import pytest
from cri_kit import Cri, eventually
from fake_apiserver import FakeApiServer
from test_cri_streaming import HTTPD, PAGE, pod_with, serving

from servin_cri.pb import api_pb2 as pb

# kubectl is not one of the project's dependencies; where it is installed
# (this machine image carries it), these tests check the real client.
pytestmark = pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not installed"
)


@pytest.fixture
async def ready(cri: Cri, published: list[str]) -> tuple[Cri, str]:
    image = published[0]
    await cri.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=image)))
    return cri, image


async def start_kubectl(
    server: FakeApiServer,
    tmp_path: Path,
    *args: str,
    websockets: bool = False,
    terminal: int | None = None,
    stdin: bool = False,
) -> asyncio.subprocess.Process:
    """kubectl ``args`` against ``server``, its output piped or, given a
    ``terminal``, on it. ``websockets``: exec and attach over WebSocket
    rather than SPDY (port-forward always SPDY: kubectl's WebSocket for it
    is a tunnel that only the API server speaks)."""
    config = tmp_path / "kubeconfig"
    config.write_text("")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "KUBECONFIG": str(config),
        "KUBECTL_REMOTE_COMMAND_WEBSOCKETS": str(websockets).lower(),
        "KUBECTL_PORT_FORWARD_WEBSOCKETS": "false",
    }
    piped = asyncio.subprocess.PIPE
    return await asyncio.create_subprocess_exec(
        "kubectl",
        f"--server=http://127.0.0.1:{server.port}",
        *args,
        stdin=(piped if stdin else asyncio.subprocess.DEVNULL)
        if terminal is None
        else terminal,
        stdout=piped if terminal is None else terminal,
        stderr=piped if terminal is None else terminal,
        env=env,
    )


class Screen:
    """What kubectl writes on its terminal, read from the master side."""

    def __init__(self, master: int) -> None:
        self._master = master
        self.seen = b""

    async def wait_for(self, text: bytes) -> None:
        while text not in self.seen:
            data = await asyncio.to_thread(os.read, self._master, 4096)
            if not data:
                raise AssertionError(f"{text!r} never came: {self.seen!r}")
            self.seen += data


async def kubectl(
    server: FakeApiServer, tmp_path: Path, *args: str, websockets: bool
) -> tuple[int, bytes, bytes]:
    process = await start_kubectl(server, tmp_path, *args, websockets=websockets)
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out, err


@pytest.mark.parametrize("websockets", [False, True], ids=["spdy", "websocket"])
async def test_kubectl_exec(
    ready: tuple[Cri, str], tmp_path: Path, websockets: bool
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")

    async def new_url(sub: str, query: dict[str, list[str]]) -> str:
        def flag(name: str) -> bool:
            return query.get(name, ["false"])[0] == "true"

        answer = await cri.runtime.Exec(
            pb.ExecRequest(
                container_id=container,
                cmd=query["command"],
                stdin=flag("stdin"),
                stdout=flag("stdout"),
                stderr=flag("stderr"),
                tty=flag("tty"),
            )
        )
        return str(answer.url)

    server = FakeApiServer(new_url)
    await server.start()
    try:
        code, out, err = await kubectl(
            server,
            tmp_path,
            "exec",
            "web",
            "--",
            "sh",
            "-c",
            "echo out; echo err >&2; exit 3",
            websockets=websockets,
        )
    finally:
        await server.stop()
    assert (code, out) == (3, b"out\n")
    assert err.startswith(b"err\n")


async def test_kubectl_exec_with_a_terminal_sends_its_size(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    _, container = await pod_with(cri, tmp_path, image, "sleep", "3600")

    async def new_url(sub: str, query: dict[str, list[str]]) -> str:
        answer = await cri.runtime.Exec(
            pb.ExecRequest(
                container_id=container,
                cmd=query["command"],
                stdin=True,
                stdout=True,
                tty=query.get("tty") == ["true"],
            )
        )
        return str(answer.url)

    server = FakeApiServer(new_url)
    await server.start()
    master, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 111, 0, 0))
    try:
        process = await start_kubectl(
            server, tmp_path, "exec", "-it", "web", "--", "sh", terminal=terminal
        )
        os.close(terminal)
        screen = Screen(master)
        await screen.wait_for(b"# ")
        os.write(master, b"stty size; exit 0\r")
        await screen.wait_for(b"33 111")
        assert await process.wait() == 0
    finally:
        os.close(master)
        await server.stop()


async def test_kubectl_port_forward_reaches_httpd(
    ready: tuple[Cri, str], tmp_path: Path
) -> None:
    cri, image = ready
    pod, container = await pod_with(cri, tmp_path, image, *HTTPD)
    await eventually(lambda: serving(cri, container), "httpd to listen")

    async def new_url(sub: str, query: dict[str, list[str]]) -> str:
        ports = [int(p) for p in query.get("ports", [])]
        answer = await cri.runtime.PortForward(
            pb.PortForwardRequest(pod_sandbox_id=pod, port=ports)
        )
        return str(answer.url)

    server = FakeApiServer(new_url)
    await server.start()
    process = await start_kubectl(server, tmp_path, "port-forward", "web", ":8080")
    try:
        assert process.stdout is not None
        line = await process.stdout.readline()
        # "Forwarding from 127.0.0.1:PORT -> 8080"
        local = line.split()[2].decode()
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{local}/index.html") as answer,
        ):
            assert await answer.text() == PAGE + "\n"
    finally:
        process.terminate()
        await process.wait()
        await server.stop()


@pytest.mark.parametrize("websockets", [False, True], ids=["spdy", "websocket"])
async def test_kubectl_attach(
    ready: tuple[Cri, str], tmp_path: Path, websockets: bool
) -> None:
    cri, image = ready
    script = "read line; echo bye $line"
    _, container = await pod_with(cri, tmp_path, image, "sh", "-c", script, stdin=True)

    async def new_url(sub: str, query: dict[str, list[str]]) -> str:
        answer = await cri.runtime.Attach(
            pb.AttachRequest(container_id=container, stdin=True, stdout=True)
        )
        return str(answer.url)

    server = FakeApiServer(new_url)
    await server.start()
    try:
        process = await start_kubectl(
            server, tmp_path, "attach", "-i", "web", websockets=websockets, stdin=True
        )
        out, err = await process.communicate(b"now\n")
    finally:
        await server.stop()
    assert process.returncode == 0, err
    assert out == b"bye now\n"
