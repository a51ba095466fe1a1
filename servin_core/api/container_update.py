"""``POST /containers/{id}/update``: docker's UpdateConfig as a ResourceChange.

docker's client sends every resource field, most of them zero: zero means
"leave it", as in dockerd, except ``PidsLimit``, which is sent only when
asked and where 0 or -1 removes the limit. A field Servin cannot change
(device rules, I/O throttles, kernel memory) is refused when it is set
rather than ignored, so a client never believes a limit holds that does not.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from servin_core.api import params
from servin_core.api.app import core_of
from servin_core.containers import lifecycle
from servin_core.containers.model import RestartPolicy, parse_restart_policy
from servin_core.containers.update import ResourceChange
from servin_core.errors import InvalidArgument

__all__ = ["resource_change", "update"]

_NUMBERS = {
    "Memory": "memory",
    "MemorySwap": "memory_swap",
    "MemoryReservation": "memory_reservation",
    "NanoCpus": "nano_cpus",
    "CpuShares": "cpu_shares",
    "CpuQuota": "cpu_quota",
    "CpuPeriod": "cpu_period",
    "BlkioWeight": "blkio_weight",
}
_TEXTS = {"CpusetCpus": "cpuset_cpus", "CpusetMems": "cpuset_mems"}
_UNSUPPORTED = frozenset(
    {"CgroupParent", "BlkioWeightDevice", "BlkioDeviceReadBps"}
    | {"BlkioDeviceWriteBps", "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"}
    | {"CpuRealtimePeriod", "CpuRealtimeRuntime", "Devices", "DeviceCgroupRules"}
    | {"DeviceRequests", "KernelMemory", "KernelMemoryTCP", "MemorySwappiness"}
    | {"OomKillDisable", "Init", "Ulimits", "CpuCount", "CpuPercent"}
    | {"IOMaximumIOps", "IOMaximumBandwidth"}
)
"""Fields of docker's UpdateConfig that Servin does not change in place."""


def _integer(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument("field", key, f"expected a number, got {value!r}")
    return value


def _restart(body: dict[str, Any]) -> RestartPolicy | None:
    policy = body.get("RestartPolicy")
    if policy is None:
        return None
    if not isinstance(policy, dict):
        raise InvalidArgument("field", "RestartPolicy", "expected an object")
    name = policy.get("Name") or ""
    if not isinstance(name, str):
        raise InvalidArgument("field", "RestartPolicy.Name", "expected a string")
    if not name:
        return None  # the client sends an empty policy when none was asked
    count = _integer(policy, "MaximumRetryCount") or 0
    return parse_restart_policy(f"{name}:{count}" if count else name)


def resource_change(body: dict[str, Any]) -> ResourceChange:
    """The change an UpdateConfig body asks for; InvalidArgument names the
    first field that is wrong or that Servin cannot change."""
    known = set(_NUMBERS) | set(_TEXTS) | _UNSUPPORTED | {"PidsLimit", "RestartPolicy"}
    unknown = sorted(set(body) - known)
    if unknown:
        raise InvalidArgument("field", unknown[0], "not a field of an update")
    for key in sorted(_UNSUPPORTED & set(body)):
        if body[key] not in (None, 0, "", [], {}, False):
            raise InvalidArgument("field", key, "Servin cannot change it on update")

    values: dict[str, Any] = {}
    for key, name in _NUMBERS.items():
        number = _integer(body, key)
        if number and number < 0 and key not in ("MemorySwap", "CpuQuota"):
            raise InvalidArgument("field", key, "must not be negative")
        if number:
            values[name] = number
    for key, name in _TEXTS.items():
        text = body.get(key)
        if text is not None and not isinstance(text, str):
            raise InvalidArgument("field", key, "expected a string")
        if text:
            values[name] = text
    values["pids_limit"] = _integer(body, "PidsLimit")
    return ResourceChange(**values, restart=_restart(body))


async def update(request: web.Request) -> web.Response:
    body = await params.body_json(request, "update")
    change = resource_change(body)
    await lifecycle.update(core_of(request), request.match_info["id"], change)
    return web.json_response({"Warnings": []})
