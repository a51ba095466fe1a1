"""The local backend's volumes, networks and pods.

A part of :class:`~servin_tui.app.local.LocalBackend` of its own, so that
the backend's module keeps to containers, images and events. Each call is
the core's own operation run off the UI's loop; the CRI's modules (and the
protobuf they load) are imported only when pods are first asked for, which
is when the Pods panel is first shown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from servin_core.errors import NotFound, Unavailable
from servin_tui.app.backend import PodSandbox, PruneResult

if TYPE_CHECKING:
    from servin_core.core import Core
    from servin_core.network.model import Network
    from servin_core.volumes.model import Volume

__all__ = ["LocalObjects"]

T = TypeVar("T")


class LocalObjects:
    """Volumes, networks and pods of an in-process core (a mixin: the
    backend gives the core and the way to run blocking calls)."""

    _core: Core

    async def _call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        raise NotImplementedError  # LocalBackend's

    # Volumes

    async def list_volumes(self) -> list[Volume]:
        from servin_core.volumes.operations import list_volumes

        return await self._call(list_volumes, self._core)

    async def get_volume(self, name: str) -> Volume | None:
        from servin_core.volumes.operations import get

        try:
            return await self._call(get, self._core, name)
        except NotFound:
            return None

    async def volume_usage(self) -> dict[str, int]:
        rows = await self._call(
            self._core.db.query,
            "SELECT volume, COUNT(DISTINCT container_id) FROM container_volumes"
            " GROUP BY volume",
        )
        return {row[0]: int(row[1]) for row in rows}

    async def inspect_volume(self, name: str) -> dict[str, Any]:
        from servin_core.volumes.describe import volume_details
        from servin_core.volumes.operations import get, store_of

        def run() -> dict[str, Any]:
            details = volume_details(self._core, get(self._core, name))
            users = store_of(self._core).users(name)
            details["UsedBy"] = [container_name for _, container_name in users]
            return details

        return await self._call(run)

    async def remove_volume(self, name: str) -> None:
        from servin_core.volumes.operations import remove_sync

        await self._call(remove_sync, self._core, name)

    async def prune_volumes(self, *, all: bool = False) -> PruneResult:
        from servin_core.volumes.operations import prune

        removed = await prune(self._core, everything=all)
        return PruneResult(
            [("Deleted", name) for name, _ in removed],
            sum(size for _, size in removed),
        )

    # Networks

    async def list_networks(self) -> list[Network]:
        return await self._call(self._core.networks.list)

    async def get_network(self, network_id: str) -> Network | None:
        try:
            return await self._call(self._core.networks.get, network_id)
        except NotFound:
            return None

    async def network_usage(self) -> dict[str, int]:
        endpoints = await self._call(self._core.networks.all_endpoints)
        return dict(Counter(endpoint.network_id for endpoint in endpoints))

    async def inspect_network(self, network_id: str) -> dict[str, Any]:
        from servin_core.network.describe import network_details

        def run() -> dict[str, Any]:
            core = self._core
            details = network_details(core, core.networks.get(network_id))
            attached = []
            for endpoint in core.networks.endpoints_on(network_id):
                try:
                    container = core.containers.get(endpoint.container_id)
                except NotFound:
                    continue  # removed since the endpoints were read
                attached.append((container.name, endpoint.ip))
            details["Attached"] = sorted(attached)
            return details

        return await self._call(run)

    async def remove_network(self, name: str) -> None:
        from servin_core.network.manage import remove_network

        await self._call(remove_network, self._core, name)

    async def prune_networks(self) -> list[str]:
        from servin_core.network.manage import prune_networks

        removed = await self._call(prune_networks, self._core)
        return [network.name for network in removed]

    # Pods

    async def list_pods(self) -> list[PodSandbox]:
        return await self._call(self._pods)

    def _pods(self) -> list[PodSandbox]:
        try:
            from servin_cri.pod_store import PodStore
        except ImportError as e:
            # grpcio and protobuf come with Servin; a trimmed install may
            # lack them, and then has no CRI to make pods either.
            raise Unavailable(
                "pods", "", f"the CRI's modules cannot be loaded here: {e}"
            ) from e

        store = PodStore(self._core.db)
        members: dict[str, list[tuple[str, str]]] = {}
        for member in store.members():
            name = member.config.metadata.name
            members.setdefault(member.pod_id, []).append((member.container_id, name))
        pods = []
        for pod in store.list():
            meta, config = pod.metadata, pod.config
            pods.append(
                PodSandbox(
                    id=pod.id,
                    name=meta.name,
                    namespace=meta.namespace,
                    uid=meta.uid,
                    attempt=meta.attempt,
                    state=pod.state.value,
                    created=pod.created,
                    ip=pod.ip,
                    runtime_handler=pod.runtime_handler,
                    hostname=config.hostname,
                    labels=dict(config.labels),
                    annotations=dict(config.annotations),
                    containers=tuple(sorted(members.get(pod.id, []), key=_second)),
                )
            )
        return pods


def _second(pair: tuple[str, str]) -> str:
    return pair[1]
