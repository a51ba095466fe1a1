"""System endpoints: ``_ping``, ``version``, ``info``, ``system/df``, ``auth``.

``version`` and ``info`` say what Servin is (its own name and version, its
runtimes, its storage and log formats) in the fields docker clients read;
nothing pretends to be dockerd. ``_ping`` carries the headers clients
negotiate with; its HEAD form has an empty body.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from servin_core.api import params
from servin_core.api.app import (
    API_VERSION,
    MIN_API_VERSION,
    SERVIN_VERSION,
    Routes,
    core_of,
)
from servin_core.errors import InvalidArgument

if TYPE_CHECKING:
    from servin_core.config import Config
    from servin_core.core import Core

__all__ = ["register", "runtime_choice"]

_GO_ARCH = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm"}


def _ping_headers() -> dict[str, str]:
    return {
        "Api-Version": API_VERSION,
        "Ostype": "linux",
        "Docker-Experimental": "false",
        # 1 is the classic builder: Servin has no BuildKit endpoint.
        "Builder-Version": "1",
        "Swarm": "inactive",
        "Cache-Control": "no-cache, no-store, must-revalidate",
        "Pragma": "no-cache",
    }


async def ping(request: web.Request) -> web.Response:
    if request.method == "HEAD":
        return web.Response(headers=_ping_headers())
    return web.Response(text="OK", headers=_ping_headers())


def _arch() -> str:
    machine = platform.machine()
    return _GO_ARCH.get(machine, machine)


_TOOL_VERSIONS: dict[str, str] = {}


async def _tool_versions() -> dict[str, str]:
    """The runtimes' and conmon's versions (``NAME version X`` on their
    first line), asked once per daemon."""
    if not _TOOL_VERSIONS:
        for name in ("crun", "runc", "conmon"):
            path = shutil.which(name)
            if path is None:
                continue
            process = await asyncio.create_subprocess_exec(
                path,
                "--version",
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
            out, _ = await process.communicate()
            first = out.decode(errors="replace").partition("\n")[0]
            _TOOL_VERSIONS[name] = first.rpartition(" ")[2] or "unknown"
    return _TOOL_VERSIONS


async def version(request: web.Request) -> web.Response:
    kernel = platform.release()
    details = {
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "Os": "linux",
        "Arch": _arch(),
        "KernelVersion": kernel,
        "Python": platform.python_version(),
    }
    components = [{"Name": "Servin", "Version": SERVIN_VERSION, "Details": details}]
    for name, found in (await _tool_versions()).items():
        components.append({"Name": name, "Version": found, "Details": {}})
    return web.json_response(
        {
            "Platform": {"Name": f"Servin {SERVIN_VERSION}"},
            "Components": components,
            "Version": SERVIN_VERSION,
            "ApiVersion": API_VERSION,
            "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": "",
            "GoVersion": f"python{platform.python_version()}",
            "Os": "linux",
            "Arch": _arch(),
            "KernelVersion": kernel,
            "BuildTime": "",
        }
    )


def _os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.partition("=")[2].strip('"')
    except OSError:
        pass
    return platform.system()


def _mem_total() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def runtime_choice(config: Config) -> tuple[str, str]:
    """The runtime new containers get, and why the configured one is not
    it ("" when it is): crun falls back to runc where it cannot run."""
    from servin_core.containers.runtime import unusable_reason

    why_not = unusable_reason(config, config.default_runtime)
    if why_not:
        return "runc", why_not
    return config.default_runtime, ""


def _swap_limit() -> bool:
    """cgroup v1 accounts swap only with swapaccount=1 (then the memsw
    files exist); v2 always can."""
    v1 = Path("/sys/fs/cgroup/memory")
    return not v1.is_dir() or (v1 / "memory.memsw.limit_in_bytes").exists()


def _forwarding() -> bool:
    try:
        return Path("/proc/sys/net/ipv4/ip_forward").read_text().strip() == "1"
    except OSError:
        return False


def _init_binary() -> str:
    return next((name for name in ("catatonit", "tini") if shutil.which(name)), "")


async def info(request: web.Request) -> web.Response:
    core = core_of(request)
    chosen, why_not = await asyncio.to_thread(runtime_choice, core.config)
    warnings = []
    if why_not:
        configured = core.config.default_runtime
        warnings.append(
            f"WARNING: {configured} cannot run containers here ({why_not}):"
            f" containers run with {chosen}"
        )
    containers = core.containers.list()
    states = [str(c.state) for c in containers]
    cgroup_v2 = Path("/sys/fs/cgroup/cgroup.controllers").exists()
    runtimes = {
        name: {"path": shutil.which(name) or name}
        for name in ("crun", "runc")
        if shutil.which(name)
    }
    return web.json_response(
        {
            "ID": _node_id(core.config.data_dir),
            "Name": socket.gethostname(),
            "ServerVersion": SERVIN_VERSION,
            "Containers": len(containers),
            "ContainersRunning": states.count("running"),
            "ContainersPaused": states.count("paused"),
            "ContainersStopped": len(states)
            - states.count("running")
            - states.count("paused"),
            "Images": len(core.images.list()),
            "Driver": "overlay",
            "DriverStatus": [["Backing Filesystem", "overlayfs snapshots"]],
            "DockerRootDir": str(core.config.data_dir),
            "Plugins": {
                "Volume": ["local"],
                "Network": ["bridge", "host", "none"],
                "Authorization": None,
                # conmon writes each container's log in the k8s-file format.
                "Log": ["k8s-file"],
            },
            "MemoryLimit": True,
            "SwapLimit": _swap_limit(),
            "CpuCfsPeriod": True,
            "CpuCfsQuota": True,
            "CPUShares": True,
            "PidsLimit": True,
            "OomKillDisable": False,
            "IPv4Forwarding": _forwarding(),
            "Debug": False,
            "NFd": len(os.listdir("/proc/self/fd")),
            "NGoroutines": 0,
            "SystemTime": _now_rfc3339(),
            "LoggingDriver": "k8s-file",
            "CgroupDriver": "cgroupfs",
            "CgroupVersion": "2" if cgroup_v2 else "1",
            "NEventsListener": 0,
            "KernelVersion": platform.release(),
            "OperatingSystem": _os_name(),
            "OSVersion": "",
            "OSType": "linux",
            "Architecture": platform.machine(),
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {
                "InsecureRegistryCIDRs": [],
                "IndexConfigs": {},
                "Mirrors": [],
            },
            "NCPU": os.cpu_count() or 1,
            "MemTotal": _mem_total(),
            "GenericResources": None,
            "HttpProxy": os.environ.get("HTTP_PROXY", ""),
            "HttpsProxy": os.environ.get("HTTPS_PROXY", ""),
            "NoProxy": os.environ.get("NO_PROXY", ""),
            "Labels": [],
            "ExperimentalBuild": False,
            "Runtimes": runtimes,
            "DefaultRuntime": chosen,
            "Swarm": {
                "NodeID": "",
                "NodeAddr": "",
                "LocalNodeState": "inactive",
                "ControlAvailable": False,
                "Error": "",
                "RemoteManagers": None,
            },
            "LiveRestoreEnabled": True,
            "Isolation": "",
            "InitBinary": _init_binary(),
            "SecurityOptions": ["name=seccomp,profile=builtin"],
            "Warnings": warnings,
        }
    )


def _now_rfc3339() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _node_id(data_dir: Path) -> str:
    """A stable ID for this store, made once (docker keeps an engine ID)."""
    path = data_dir / "engine-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        import uuid

        ident = str(uuid.uuid4()).upper()
        path.write_text(ident + "\n")
        return ident


async def system_df(request: web.Request) -> web.Response:
    from servin_core.api.shapes import image_summary

    core = core_of(request)
    containers = core.containers.list()
    used = {c.image_id for c in containers}
    images = []
    for image in core.images.list():
        summary = image_summary(image)
        summary["Containers"] = sum(1 for c in containers if c.image_id == image.id)
        images.append(summary)
    from servin_core.api.shapes import container_summary

    return web.json_response(
        {
            "LayersSize": sum(image.size for image in core.images.list()),
            "Images": images,
            "Containers": [container_summary(core, c) for c in containers],
            "Volumes": _volumes(core),
            "BuildCache": [],
            "ImagesInUse": len(used),
        }
    )


def _volumes(core: Core) -> list[dict[str, Any]]:
    from servin_core.volumes.describe import volume_details
    from servin_core.volumes.operations import list_volumes, store_of

    used = store_of(core).used()
    shown = []
    for volume in list_volumes(core):
        details = volume_details(core, volume)
        details["UsageData"] = {
            "RefCount": 1 if volume.name in used else 0,
            "Size": -1,
        }
        shown.append(details)
    return shown


async def auth(request: web.Request) -> web.Response:
    """Check credentials against the registry (docker login); nothing is
    stored here: the client keeps its own."""
    from servin_core.registry.credentials import normalize_server

    body = await params.body_json(request, "auth")
    server = str(body.get("serveraddress") or "docker.io")
    username = str(body.get("username") or "")
    password = str(body.get("password") or "")
    if not username or not password:
        raise InvalidArgument("auth", server, "username and password are required")
    from servin_core.api.images import check_login

    await check_login(core_of(request), normalize_server(server), username, password)
    return web.json_response({"Status": "Login Succeeded", "IdentityToken": ""})


def register(app: web.Application, routes: Routes) -> None:
    from servin_core.api import events

    routes.add("GET", "/_ping", ping)
    routes.add("HEAD", "/_ping", ping)
    routes.add("GET", "/version", version)
    routes.add("GET", "/info", info)
    routes.add("GET", "/system/df", system_df)
    routes.add("POST", "/auth", auth)
    routes.add("GET", "/events", events.events)
