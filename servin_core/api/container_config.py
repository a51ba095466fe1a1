"""docker's create body (``Config`` with ``HostConfig``) as a ContainerConfig.

Each field is checked for its type and named when wrong, so a client gets
a 400 that says which field, not a 500. Strings in docker's own syntax
(``Binds`` entries, restart policies, ulimits, devices) go through the
parsers the CLI uses for the same flags, so both faces accept and refuse
the same values. Fields Servin does not implement yet are accepted and
ignored where docker itself treats them as hints (``ExposedPorts``,
``NetworkMode`` until networks land), refused where ignoring them would
change what runs.
"""

from __future__ import annotations

from typing import Any

from servin_core.containers.model import (
    ContainerConfig,
    Device,
    Mount,
    Resources,
    RestartPolicy,
    Ulimit,
    parse_restart_policy,
)
from servin_core.errors import InvalidArgument

__all__ = ["config_from_docker"]

_MIN_MEMORY = 6 * 1024 * 1024


def _get(body: dict[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) and kind in (int, (int, float)):
        raise InvalidArgument("field", key, "expected a number, got a boolean")
    if not isinstance(value, kind):
        raise InvalidArgument(
            "field", key, f"expected {_kind_name(kind)}, got {type(value).__name__}"
        )
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {list: "a list", dict: "an object", str: "a string", bool: "a boolean"}
    if isinstance(kind, tuple):
        return " or ".join(names.get(k, k.__name__) for k in kind)
    return names.get(kind, "a number")


def _strings(body: dict[str, Any], key: str) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument("field", key, "expected a list of strings")
    return list(value)


def _string_map(body: dict[str, Any], key: str) -> dict[str, str]:
    value = _get(body, key, dict) or {}
    if not all(isinstance(v, str) for v in value.values()):
        raise InvalidArgument("field", key, "expected an object of strings")
    return dict(value)


def _number(body: dict[str, Any], key: str) -> int | None:
    value = _get(body, key, int)
    if value is not None and value < 0:
        raise InvalidArgument("field", f"HostConfig.{key}", "must not be negative")
    return int(value) if value else None


_FIELDS = frozenset(
    [
        "Hostname",
        "Domainname",
        "User",
        "AttachStdin",
        "AttachStdout",
        "AttachStderr",
        "ExposedPorts",
        "Tty",
        "OpenStdin",
        "StdinOnce",
        "Env",
        "Cmd",
        "Healthcheck",
        "ArgsEscaped",
        "Image",
        "Volumes",
        "WorkingDir",
        "Entrypoint",
        "NetworkDisabled",
        "MacAddress",
        "OnBuild",
        "Labels",
        "StopSignal",
        "StopTimeout",
        "Shell",
        "HostConfig",
        "NetworkingConfig",
        "Platform",
    ]
)
"""docker's create body: a field outside it is a mistake worth a 400."""


def config_from_docker(body: dict[str, Any]) -> ContainerConfig:
    """The ContainerConfig for a create request; InvalidArgument names the
    first bad field."""
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise InvalidArgument("field", unknown[0], "not a field of a create request")
    image = _get(body, "Image", str)
    if not image:
        raise InvalidArgument("field", "Image", "an image is required")
    host = _get(body, "HostConfig", dict) or {}
    restart = _restart(host)
    auto_remove = bool(_get(host, "AutoRemove", bool))
    if auto_remove and restart.name != "no":
        raise InvalidArgument(
            "field", "HostConfig.AutoRemove", "conflicts with a restart policy"
        )
    workdir = _get(body, "WorkingDir", str) or None
    if workdir is not None and not workdir.startswith("/"):
        raise InvalidArgument("field", "WorkingDir", f"{workdir} is not absolute")
    env = _strings(body, "Env") or []
    for item in env:
        if not item.partition("=")[0]:
            raise InvalidArgument("environment variable", item, "the name is empty")

    endpoint = _endpoint(body)
    return ContainerConfig(
        image=image,
        entrypoint=_strings(body, "Entrypoint"),
        cmd=_strings(body, "Cmd"),
        env=env,
        user=_get(body, "User", str) or None,
        workdir=workdir,
        hostname=_get(body, "Hostname", str) or None,
        labels=_string_map(body, "Labels"),
        tty=bool(_get(body, "Tty", bool)),
        open_stdin=bool(_get(body, "OpenStdin", bool)),
        stdin_once=bool(_get(body, "StdinOnce", bool)),
        cap_add=_strings(host, "CapAdd") or [],
        cap_drop=_strings(host, "CapDrop") or [],
        privileged=bool(_get(host, "Privileged", bool)),
        security_opt=_strings(host, "SecurityOpt") or [],
        read_only=bool(_get(host, "ReadonlyRootfs", bool)),
        init=bool(_get(host, "Init", bool)),
        resources=_resources(host),
        mounts=_mounts(host),
        restart=restart,
        auto_remove=auto_remove,
        stop_signal=_get(body, "StopSignal", str) or None,
        stop_timeout=_get(body, "StopTimeout", int),
        runtime=_get(host, "Runtime", str) or None,
        log_max_size=_log_max_size(host),
        group_add=_groups(host),
        volumes_from=_strings(host, "VolumesFrom") or [],
        network=_network_mode(host),
        ip=endpoint.get("ip"),
        network_aliases=endpoint.get("aliases") or [],
        publish=_publish(host),
        publish_all=bool(_get(host, "PublishAllPorts", bool)),
        console_size=_console_size(host),
    )


def _console_size(host: dict[str, Any]) -> tuple[int, int] | None:
    """``[rows, columns]``; docker sends ``[0, 0]`` when it has no terminal."""
    value = _get(host, "ConsoleSize", list)
    if not value:
        return None
    if len(value) != 2 or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value
    ):
        raise InvalidArgument(
            "field", "HostConfig.ConsoleSize", "expected [rows, columns]"
        )
    return (value[0], value[1]) if value[0] and value[1] else None


def _log_max_size(host: dict[str, Any]) -> int | None:
    """``LogConfig``: conmon's one file (docker's json-file, the default
    when ``Type`` is empty) and its options, checked as ``--log-opt`` is."""
    log = _get(host, "LogConfig", dict) or {}
    kind = _get(log, "Type", str) or ""
    if kind not in ("", "json-file"):
        raise InvalidArgument(
            "field",
            "HostConfig.LogConfig.Type",
            f"the {kind} log driver is not supported: conmon writes the log "
            "to one file (json-file)",
        )
    options = _get(log, "Config", dict) or {}
    if not all(isinstance(v, str) for v in options.values()):
        raise InvalidArgument(
            "field", "HostConfig.LogConfig.Config", "expected an object of strings"
        )
    if not options:
        return None
    from servin_core.containers.log_options import log_max_size

    try:
        return log_max_size(options.items())
    except InvalidArgument as e:
        raise InvalidArgument(
            "field", "HostConfig.LogConfig.Config", f"{e.ident}: {e.reason}"
        ) from None


def _groups(host: dict[str, Any]) -> list[str]:
    """``GroupAdd``: names or GIDs, looked up in the image when it starts."""
    groups = _strings(host, "GroupAdd") or []
    if not all(group.strip() for group in groups):
        raise InvalidArgument("field", "HostConfig.GroupAdd", "a group is empty")
    return groups


def _network_mode(host: dict[str, Any]) -> str | None:
    """docker's ``default`` and ``bridge`` are Servin's default network."""
    mode = _get(host, "NetworkMode", str) or ""
    return None if mode in ("", "default", "bridge") else mode


def _endpoint(body: dict[str, Any]) -> dict[str, Any]:
    """The address and aliases of the first network in ``NetworkingConfig``."""
    networking = _get(body, "NetworkingConfig", dict) or {}
    endpoints = _get(networking, "EndpointsConfig", dict) or {}
    for settings in endpoints.values():
        if not isinstance(settings, dict):
            raise InvalidArgument(
                "field", "NetworkingConfig.EndpointsConfig", "expected objects"
            )
        ipam = _get(settings, "IPAMConfig", dict) or {}
        return {
            "ip": _get(ipam, "IPv4Address", str) or None,
            "aliases": _strings(settings, "Aliases"),
        }
    return {}


def _publish(host: dict[str, Any]) -> list[str]:
    """``PortBindings`` as ``-p`` specs (checked by the network core)."""
    from servin_core.network.model import parse_publish

    specs = []
    for key, bindings in (_get(host, "PortBindings", dict) or {}).items():
        port = key if "/" in key else f"{key}/tcp"
        for binding in bindings or [{}]:
            if not isinstance(binding, dict):
                raise InvalidArgument("field", "HostConfig.PortBindings", key)
            ip = str(binding.get("HostIp") or "")
            host_port = str(binding.get("HostPort") or "")
            if ":" in ip:
                ip = f"[{ip}]"
            spec = (
                f"{ip}:{host_port}:{port}"
                if ip
                else (f"{host_port}:{port}" if host_port else port)
            )
            parse_publish(spec)
            specs.append(spec)
    return specs


def _restart(host: dict[str, Any]) -> RestartPolicy:
    policy = _get(host, "RestartPolicy", dict) or {}
    name = _get(policy, "Name", str) or "no"
    count = _get(policy, "MaximumRetryCount", int) or 0
    text = f"{name}:{count}" if name == "on-failure" and count else name
    return parse_restart_policy(text)


def _resources(host: dict[str, Any]) -> Resources:
    memory = _number(host, "Memory")
    if memory is not None and memory < _MIN_MEMORY:
        raise InvalidArgument("field", "HostConfig.Memory", "the minimum is 6MiB")
    swap = _get(host, "MemorySwap", int) or None
    if swap is not None and swap != -1 and (memory is None or swap < memory):
        raise InvalidArgument(
            "field", "HostConfig.MemorySwap", "must be -1 or at least Memory"
        )
    pids = _get(host, "PidsLimit", int)
    ulimits = []
    for item in _get(host, "Ulimits", list) or []:
        if not isinstance(item, dict) or not isinstance(item.get("Name"), str):
            raise InvalidArgument("field", "HostConfig.Ulimits", "entries need a Name")
        ulimits.append(
            Ulimit(
                name=item["Name"],
                soft=int(item.get("Soft", 0)),
                hard=int(item.get("Hard", 0)),
            )
        )
    devices = []
    for item in _get(host, "Devices", list) or []:
        if not isinstance(item, dict) or not item.get("PathOnHost"):
            raise InvalidArgument(
                "field", "HostConfig.Devices", "entries need a PathOnHost"
            )
        devices.append(
            Device(
                host_path=str(item["PathOnHost"]),
                container_path=str(item.get("PathInContainer") or item["PathOnHost"]),
                permissions=str(item.get("CgroupPermissions") or "rwm"),
            )
        )
    return Resources(
        memory=memory,
        memory_swap=swap if memory is not None else None,
        memory_reservation=_number(host, "MemoryReservation"),
        nano_cpus=_number(host, "NanoCpus"),
        cpu_shares=_number(host, "CpuShares"),
        cpu_quota=_get(host, "CpuQuota", int) or None,
        cpu_period=_number(host, "CpuPeriod"),
        cpuset_cpus=_get(host, "CpusetCpus", str) or None,
        cpuset_mems=_get(host, "CpusetMems", str) or None,
        blkio_weight=_number(host, "BlkioWeight"),
        pids_limit=pids if pids is not None and pids > 0 else None,
        ulimits=tuple(ulimits),
        devices=tuple(devices),
        sysctls=_string_map(host, "Sysctls"),
        shm_size=_number(host, "ShmSize"),
    )


def _mounts(host: dict[str, Any]) -> list[Mount]:
    from servin_tui.cli.containers_mounts import parse_tmpfs, parse_volume

    found = [parse_volume(text) for text in _strings(host, "Binds") or []]
    for item in _get(host, "Mounts", list) or []:
        found.append(_mount(item))
    for target, options in _string_map(host, "Tmpfs").items():
        found.append(parse_tmpfs(f"{target}:{options}" if options else target))

    seen: set[str] = set()
    for mount in found:
        if mount.target in seen:
            raise InvalidArgument("mount point", mount.target, "is given twice")
        seen.add(mount.target)
    return found


def _mount(item: Any) -> Mount:
    if not isinstance(item, dict):
        raise InvalidArgument("field", "HostConfig.Mounts", "entries must be objects")
    kind = item.get("Type") or "volume"
    target = item.get("Target")
    if kind not in ("bind", "volume", "tmpfs"):
        raise InvalidArgument("mount", str(target), f"type {kind!r} is not supported")
    if not isinstance(target, str) or not target.startswith("/"):
        raise InvalidArgument("mount", str(target), "Target must be an absolute path")
    source = item.get("Source") or ""
    if kind == "bind" and not (isinstance(source, str) and source.startswith("/")):
        raise InvalidArgument("mount", target, "a bind needs an absolute Source")
    options: tuple[str, ...] = ()
    if kind == "tmpfs":
        tmpfs = item.get("TmpfsOptions") or {}
        size = tmpfs.get("SizeBytes") if isinstance(tmpfs, dict) else None
        options = (f"size={int(size)}",) if size else ()
    return Mount(
        type=kind,  # type: ignore[arg-type]  # checked against the three above
        target=target,
        source=str(source),
        read_only=bool(item.get("ReadOnly")),
        options=options,
    )
