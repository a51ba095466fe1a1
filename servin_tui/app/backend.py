"""What the screens may ask of a core, and nothing more.

Every screen talks to a :class:`Backend`, never to ``servin_core.core.Core``:
the local backend runs an in-process core, and a remote one (a headless core
reached over SSH) will implement the same protocol, so no screen changes when
it arrives. Everything is a coroutine, because either kind of core may take
time to answer; the values are the core's own plain data classes (``Image``,
``Container``, ``Event``), which a remote backend can rebuild from JSON.

Errors are the core's :class:`~servin_core.errors.ServinError` kinds, naming
the object and the reason; the screens turn them into notifications.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from servin_core._dataclass import dataclass, field
from servin_core.containers.logs import LogLine
from servin_core.containers.model import Container, ContainerConfig
from servin_core.events import Event
from servin_core.images.progress import ProgressCallback
from servin_core.images.store import Image

if TYPE_CHECKING:
    from servin_core.containers.stats import Sample
    from servin_core.network.model import Network
    from servin_core.volumes.model import Volume

__all__ = ["Backend", "ContainerAction", "ExecSession", "PodSandbox", "PruneResult"]


class ContainerAction(enum.StrEnum):
    """Operations on one container, as the lifecycle API names them."""

    START = "start"
    STOP = "stop"
    RESTART = "restart"
    KILL = "kill"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    REMOVE = "remove"


@dataclass(frozen=True)
class PruneResult:
    """What a prune removed, in docker's words, and the bytes it freed."""

    deleted: list[tuple[str, str]] = field(default_factory=list)
    reclaimed: int = 0


@dataclass(frozen=True)
class PodSandbox:
    """A CRI pod sandbox in plain values (the CRI's own record holds
    protobuf messages, which neither the screens nor a remote backend
    should need)."""

    id: str
    name: str
    namespace: str
    uid: str
    attempt: int
    state: str
    """``ready`` or ``notready``, as the CRI says."""
    created: float
    ip: str
    """The pod's address from CNI; empty on loopback only."""
    runtime_handler: str = ""
    hostname: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    containers: tuple[tuple[str, str], ...] = ()
    """(ID, name) of each of the pod's containers."""


class ExecSession(Protocol):
    """A command running in a container on a pty, as a stream of bytes.

    Only bytes and small numbers cross this boundary, so a remote backend
    can carry a session over one socket: output one way, keys and window
    sizes the other, the exit status at the end.
    """

    async def read(self) -> bytes:
        """The next output, as the pty gave it; ``b""`` once it closed."""
        ...

    async def write(self, data: bytes) -> None:
        """Send ``data`` to the pty, as keys typed (in order, no waiting
        for the command to read them)."""
        ...

    async def resize(self, columns: int, rows: int) -> None:
        """Give the pty this size (the command gets SIGWINCH)."""
        ...

    async def wait(self) -> int:
        """The command's exit status, once it exited (128+N: signal N)."""
        ...

    async def close(self) -> None:
        """End the command if it still runs (its terminal hangs up)."""
        ...


class Backend(Protocol):
    """A core, local or remote, as the TUI uses it."""

    @property
    def description(self) -> str:
        """Where the core is, for the title bar (``local: /var/lib/servin``)."""
        ...

    @property
    def data_dir(self) -> str:
        """Where this front end may keep its own small files (the theme)."""
        ...

    # Images

    async def list_images(self) -> list[Image]: ...

    async def get_image(self, image_id: str) -> Image | None:
        """The image with this full ID, or None once it is gone."""
        ...

    async def inspect_image(self, image_id: str) -> dict[str, Any]:
        """docker's inspect document for the image."""
        ...

    async def pull_image(self, reference: str, progress: ProgressCallback) -> Image:
        """Pull ``reference``; ``progress`` is called on the caller's loop."""
        ...

    async def push_image(self, reference: str, progress: ProgressCallback) -> str:
        """Push the local image ``reference``; returns the manifest digest."""
        ...

    async def tag_image(self, source: str, target: str) -> None: ...

    async def remove_image(
        self, name: str, *, force: bool = False
    ) -> list[tuple[str, str]]: ...

    async def prune_images(self, *, all: bool = False) -> PruneResult: ...

    # Containers

    async def list_containers(self) -> list[Container]: ...

    async def get_container(self, container_id: str) -> Container | None: ...

    def container_actions(self) -> frozenset[ContainerAction]:
        """The actions this core offers now (the lifecycle grows over time)."""
        ...

    async def container_action(self, action: ContainerAction, name: str) -> None:
        """Run ``action`` on the container ``name`` (ID, name or prefix)."""
        ...

    def container_logs(
        self, name: str, *, follow: bool = True, tail: int | None = None
    ) -> AsyncIterator[LogLine]:
        """The container's output, oldest first; with ``follow``, new lines
        as they are written until the container stops."""
        ...

    # Running

    async def has_image(self, reference: str) -> bool:
        """Whether an image answers to ``reference`` (a name or an ID)."""
        ...

    async def create_container(
        self, config: ContainerConfig, *, name: str | None = None
    ) -> Container:
        """Create (not start) a container; the image must be present."""
        ...

    # Volumes and networks

    async def create_volume(
        self,
        name: str | None,
        *,
        labels: dict[str, str],
        options: dict[str, str],
    ) -> Volume:
        """A new local volume (a generated name without ``name``)."""
        ...

    async def create_network(
        self,
        name: str,
        *,
        subnet: str | None,
        gateway: str | None,
        internal: bool,
        labels: dict[str, str],
    ) -> Network:
        """A new bridge network (a free subnet without ``subnet``)."""
        ...

    async def list_volumes(self) -> list[Volume]: ...

    async def get_volume(self, name: str) -> Volume | None:
        """The volume of this name, or None once it is gone."""
        ...

    async def volume_usage(self) -> dict[str, int]:
        """How many containers mount each volume that some container mounts."""
        ...

    async def inspect_volume(self, name: str) -> dict[str, Any]:
        """docker's ``volume inspect`` document, with ``UsedBy``: the names
        of the containers that mount it."""
        ...

    async def remove_volume(self, name: str) -> None:
        """Remove the volume; Conflict naming the containers if in use."""
        ...

    async def prune_volumes(self, *, all: bool = False) -> PruneResult:
        """Remove unused anonymous volumes (``all``: named ones too)."""
        ...

    async def list_networks(self) -> list[Network]: ...

    async def get_network(self, network_id: str) -> Network | None:
        """The network with this full ID, or None once it is gone."""
        ...

    async def network_usage(self) -> dict[str, int]:
        """How many containers each network has (running or not), by ID."""
        ...

    async def inspect_network(self, network_id: str) -> dict[str, Any]:
        """docker's ``network inspect`` document, with ``Attached``: the
        name of each container on it and its address ("" unless running)."""
        ...

    async def remove_network(self, name: str) -> None:
        """Remove the network (ID, name or prefix); Conflict if containers
        are on it or it is the default network."""
        ...

    async def prune_networks(self) -> list[str]:
        """Remove every user network no container is on; their names."""
        ...

    # Pods

    async def list_pods(self) -> list[PodSandbox]:
        """The CRI's pod sandboxes (none when the CRI never ran here)."""
        ...

    # Exec and stats

    async def open_exec(
        self, container_id: str, cmd: Sequence[str], *, columns: int, rows: int
    ) -> ExecSession:
        """Run ``cmd`` in the running container on a new pty of this size.
        Returns once the command started; Conflict if the container does
        not run, ExecFailed (Unavailable) if the command cannot start."""
        ...

    async def container_samples(
        self, container_ids: Sequence[str]
    ) -> dict[str, Sample]:
        """The counters (CPU time, memory) of those containers that run now;
        the others are left out. CPU % is the change between two samples."""
        ...

    # Events

    async def last_event(self) -> int:
        """The sequence number of the newest event (0 when there is none)."""
        ...

    async def events_since(self, seq: int) -> list[Event]:
        """Events after ``seq``, oldest first, from every process."""
        ...

    def watch_events(self, seq: int) -> AsyncIterator[list[Event]]:
        """Batches of new events after ``seq``, as they happen, forever."""
        ...

    async def close(self) -> None: ...
