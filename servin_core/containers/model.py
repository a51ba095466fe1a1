"""What a container is: its configuration, as created, and its state.

The configuration is fixed at create time (``ContainerConfig``, stored as
JSON); the state changes as the container runs. Which operations a state
allows is decided here, on the state itself, so that every front end refuses
the same things with the same words.
"""

from __future__ import annotations

import enum
import json
from typing import Any, Literal

from servin_core._dataclass import dataclass, field
from servin_core._records import RecordError, bounds, from_data, to_data
from servin_core.errors import Conflict, InvalidArgument

__all__ = [
    "Container",
    "ContainerConfig",
    "Device",
    "Mount",
    "Resources",
    "RestartPolicy",
    "State",
    "Ulimit",
    "config_from_data",
    "config_from_json",
    "config_to_json",
    "parse_restart_policy",
]


class State(enum.StrEnum):
    """docker's container states."""

    CREATED = "created"
    RUNNING = "running"
    PAUSED = "paused"
    RESTARTING = "restarting"
    REMOVING = "removing"
    EXITED = "exited"
    DEAD = "dead"

    def can_start(self) -> bool:
        return self in (State.CREATED, State.EXITED)

    def can_stop(self) -> bool:
        return self in (State.RUNNING, State.PAUSED, State.RESTARTING)

    def can_pause(self) -> bool:
        return self is State.RUNNING

    def can_unpause(self) -> bool:
        return self is State.PAUSED

    def can_exec(self) -> bool:
        return self is State.RUNNING

    def can_update(self) -> bool:
        """Limits change in place for these; a restarting, removing or dead
        one has no settled cgroup or row to change."""
        return self in (State.CREATED, State.RUNNING, State.PAUSED, State.EXITED)

    def can_remove(self, *, force: bool) -> bool:
        return force or self in (State.CREATED, State.EXITED, State.DEAD)

    @property
    def is_active(self) -> bool:
        """Whether a process of the container may exist."""
        return self in (State.RUNNING, State.PAUSED, State.RESTARTING)

    def require(self, allowed: bool, container: str, operation: str) -> None:
        """Raise Conflict naming ``container`` unless ``allowed``."""
        if not allowed:
            raise Conflict(
                "container", container, f"cannot {operation} a container that is {self}"
            )


@dataclass(frozen=True)
class RestartPolicy:
    """What to do when the container exits (docker's ``--restart``)."""

    name: Literal["no", "on-failure", "always", "unless-stopped"] = "no"
    maximum_retry: int = field(default=0, metadata=bounds(0))


def parse_restart_policy(text: str) -> RestartPolicy:
    """docker's ``--restart`` syntax: ``no``, ``on-failure[:N]``, ``always``,
    ``unless-stopped``."""
    name, _, count = text.partition(":")
    if name not in ("no", "on-failure", "always", "unless-stopped"):
        raise InvalidArgument("restart policy", text, "unknown policy")
    if count and name != "on-failure":
        raise InvalidArgument(
            "restart policy", text, "only on-failure takes a maximum retry count"
        )
    try:
        retries = int(count) if count else 0
    except ValueError:
        raise InvalidArgument("restart policy", text, "bad retry count") from None
    if retries < 0:
        raise InvalidArgument("restart policy", text, "retry count is negative")
    return RestartPolicy(name=name, maximum_retry=retries)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Ulimit:
    """A resource limit of the container's processes (``--ulimit``)."""

    name: str
    soft: int
    hard: int


@dataclass(frozen=True)
class Device:
    """A host device made inside the container (``--device``)."""

    host_path: str
    container_path: str
    permissions: str = "rwm"


@dataclass(frozen=True)
class Mount:
    """A bind, volume, tmpfs or overlay mount in the container."""

    type: Literal["bind", "volume", "tmpfs", "overlay"]
    """``overlay``: read-only, of the lower directories in ``options``
    (``lowerdir=A:B``, at least two), mounted by the runtime inside the
    container, so that it goes with the container (the CRI's image volumes)."""
    target: str
    source: str = ""
    read_only: bool = False
    options: tuple[str, ...] = ()
    create_source: bool = False
    """Make a missing bind source directory at start (docker's ``-v``;
    ``--mount`` refuses a missing one)."""
    volume_options: tuple[str, ...] = ()
    """``KEY=VALUE`` driver options for a volume this mount makes."""
    volume_labels: tuple[str, ...] = ()
    """``KEY[=VALUE]`` labels for a volume this mount makes."""


@dataclass(frozen=True)
class Resources:
    """The container's cgroup limits, rlimits, devices and sysctls."""

    memory: int | None = None
    """Bytes; None is unlimited."""
    memory_swap: int | None = None
    """Memory plus swap in bytes; -1 is unlimited swap."""
    memory_reservation: int | None = None
    """A soft limit in bytes, below ``memory``; None is none."""
    nano_cpus: int | None = None
    cpu_shares: int | None = None
    cpu_quota: int | None = None
    """Microseconds of CPU per ``cpu_period``; apart from ``nano_cpus``."""
    cpu_period: int | None = None
    cpuset_cpus: str | None = None
    """CPUs the container may use, as the kernel writes them (``0-1,3``)."""
    cpuset_mems: str | None = None
    pids_limit: int | None = None
    blkio_weight: int | None = None
    """10 to 1000: the container's share of block I/O."""
    ulimits: tuple[Ulimit, ...] = ()
    devices: tuple[Device, ...] = ()
    sysctls: dict[str, str] = field(default_factory=dict)
    shm_size: int | None = None


@dataclass
class ContainerConfig:
    """Everything ``create`` was asked for, as given (docker's names).

    A plain dataclass: it is built on every ``run`` and read back on every
    command, so it must cost nothing to import; ``config_from_json`` checks
    what the store (or a remote caller) hands back against the hints."""

    image: str
    entrypoint: list[str] | None = None
    cmd: list[str] | None = None
    env: list[str] = field(default_factory=list)
    user: str | None = None
    workdir: str | None = None
    hostname: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    tty: bool = False
    open_stdin: bool = False
    stdin_once: bool = False
    """Close the container's stdin when the first attach's input ends
    (docker's StdinOnce: ``run -i`` in the foreground)."""
    cap_add: list[str] = field(default_factory=list)
    cap_drop: list[str] = field(default_factory=list)
    privileged: bool = False
    security_opt: list[str] = field(default_factory=list)
    read_only: bool = False
    init: bool = False
    resources: Resources = field(default_factory=Resources)
    mounts: list[Mount] = field(default_factory=list)
    volumes_from: list[str] = field(default_factory=list)
    """``--volumes-from CONTAINER[:ro|rw]`` as given; create adds the
    mounts they give to ``mounts``."""
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    auto_remove: bool = False
    stop_signal: str | None = None
    stop_timeout: int | None = None
    runtime: str | None = None
    log_max_size: int | None = None
    network: str | None = None
    """``--network``: ``host``, ``none``, ``container:NAME`` or a network's
    name; None joins the default network."""
    ip: str | None = None
    """``--ip``: the address on the first network."""
    network_aliases: list[str] = field(default_factory=list)
    publish: list[str] = field(default_factory=list)
    """``-p`` values as given (``8080:80/tcp``)."""
    publish_all: bool = False
    """``-P``: publish the image's exposed ports on free host ports."""
    namespaces: dict[str, str] = field(default_factory=dict)
    """Namespaces to share, by OCI type (``network``, ``ipc``, ``uts``,
    ``pid``): a pinned namespace file to join, or ``host`` for the host's
    (a CRI pod's containers join the pod's)."""
    log_path: str | None = None
    """Where conmon writes the log (CRI format) instead of the container's
    own directory: the path kubelet asked for."""
    console_size: tuple[int, int] | None = None
    """With a tty: its size (rows, columns) from the start, before anyone
    attaches (docker's ConsoleSize), so the process reads the right one."""
    group_add: list[str] = field(default_factory=list)
    """More groups for the process, names or IDs (docker's --group-add, the
    CRI's supplemental groups), beside those /etc/group gives its user."""
    image_groups: bool = True
    """Give the process the groups the image's /etc/group lists its user in
    (docker's way); False for the CRI's Strict supplemental-groups policy,
    where only the user's own and ``group_add`` count."""
    primary_in_groups: bool = False
    """List the primary group among the supplementary ones too, as
    containerd does for kubelet (which reports the kernel's list); docker
    leaves it out."""
    masked_paths: list[str] | None = None
    """Paths hidden from the container; None for the defaults."""
    readonly_paths: list[str] | None = None
    """Paths made read-only in the container; None for the defaults."""
    cgroup_parent: str | None = None
    """The cgroup (an absolute path in each hierarchy) to make the
    container's under, instead of /servin (a CRI pod's, from kubelet)."""


def config_to_json(config: ContainerConfig) -> str:
    """``config`` as the JSON the store keeps."""
    return json.dumps(to_data(config), separators=(",", ":"))


def config_from_json(text: str | bytes) -> ContainerConfig:
    """A ContainerConfig from ``config_to_json``'s output (or a client's)."""
    return config_from_data(json.loads(text))


def config_from_data(data: Any) -> ContainerConfig:
    """A ContainerConfig from JSON-shaped ``data``, checked against its fields."""
    try:
        return from_data(ContainerConfig, data)
    except RecordError as e:
        raise InvalidArgument("container config", e.path, e.reason) from None


@dataclass(frozen=True, slots=True)
class Container:
    """A container as the store holds it."""

    id: str
    name: str
    image_id: str
    image_name: str
    created: float
    config: ContainerConfig
    lowers: tuple[str, ...]
    """The image's snapshot chain IDs, top first, as overlayfs stacks them."""
    runtime: str
    state: State
    pid: int = 0
    conmon_pid: int = 0
    exit_code: int | None = None
    oom_killed: bool = False
    started_at: float | None = None
    finished_at: float | None = None
    restart_count: int = 0
    stopped_by_user: bool = False
    error: str = ""

    @property
    def short_id(self) -> str:
        return self.id[:12]
