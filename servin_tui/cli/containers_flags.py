"""``create`` and ``run`` flags, and turning them into a ContainerConfig.

The flags are docker's, with docker's spellings, so that a command line
copied from docker's documentation means the same here. Values are checked
before anything is created: a bad value is an InvalidArgument naming the flag
and the value, and the caller exits 125 as docker does.
"""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument

if TYPE_CHECKING:
    from servin_core.containers.model import ContainerConfig, Resources

__all__ = ["CreateRequest", "add_create_flags", "build_request", "parse_env_file"]

_PULL_POLICIES = ("missing", "always", "never")
_MIN_MEMORY = 6 * 1024 * 1024
"""docker refuses smaller limits: the runtime itself needs about this much."""


@dataclass(frozen=True, eq=False)
class CreateRequest:
    """What ``create`` and ``run`` were asked for, checked."""

    config: ContainerConfig
    name: str | None
    pull: str
    """``missing``, ``always`` or ``never``."""
    platform: str | None


def add_create_flags(parser: argparse.ArgumentParser) -> None:
    """Add docker's container flags (and IMAGE [COMMAND [ARG...]]) to ``parser``."""
    # docker's -h is --hostname; help stays available as --help. A group
    # takes its parser's conflict handler when it is made.
    parser.conflict_handler = "resolve"
    group = parser.add_argument_group("container options")
    add = group.add_argument

    def many(*flags: str, metavar: str, help: str) -> None:
        add(*flags, action="append", default=[], metavar=metavar, help=help)

    add("--name", help="assign a name to the container")
    many("-e", "--env", metavar="KEY[=VALUE]", help="set a variable")
    many("--env-file", metavar="FILE", help="read variables from a file")
    many("-l", "--label", metavar="KEY[=VALUE]", help="set a label")
    add("-u", "--user", metavar="USER[:GROUP]", help="user name or UID")
    many("--group-add", metavar="GROUP", help="add a group (name or GID)")
    add("-w", "--workdir", metavar="DIR", help="working directory in the container")
    add("--entrypoint", metavar="COMMAND", help="override the image's entrypoint")
    add("-h", "--hostname", help="the container's host name")
    add("-t", "--tty", action="store_true", help="allocate a pseudo-terminal")
    add("-i", "--interactive", action="store_true", help="keep stdin open")
    add("--rm", action="store_true", help="remove the container when it exits")
    add("--restart", default="no", metavar="POLICY", help="no, on-failure[:N], ...")

    many("--cap-add", metavar="CAP", help="add a Linux capability")
    many("--cap-drop", metavar="CAP", help="drop a Linux capability")
    add("--privileged", action="store_true", help="give extended privileges")
    many("--security-opt", metavar="OPTION", help="security options")
    add("--read-only", action="store_true", help="mount the root file system read-only")
    add("--init", action="store_true", help="run an init that reaps zombies")

    add("-m", "--memory", metavar="BYTES", help="memory limit (e.g. 512m)")
    add("--memory-swap", metavar="BYTES", help="memory plus swap; -1 is unlimited")
    add("--cpus", metavar="N", help="number of CPUs (e.g. 1.5)")
    add("--cpu-shares", metavar="N", help="relative CPU weight")
    add("--pids-limit", metavar="N", help="process limit; -1 is unlimited")
    many("--ulimit", metavar="NAME=SOFT[:HARD]", help="set a ulimit")
    many("--device", metavar="HOST[:CONTAINER[:PERMS]]", help="add a device")
    many("--sysctl", metavar="KEY=VALUE", help="set a namespaced sysctl")
    add("--shm-size", metavar="BYTES", help="size of /dev/shm (default 64m)")

    add("--stop-signal", metavar="SIGNAL", help="signal that stops the container")
    add("--stop-timeout", metavar="SECONDS", help="seconds before SIGKILL")
    add("--runtime", metavar="NAME", help="OCI runtime (crun or runc)")
    many("--log-opt", metavar="KEY=VALUE", help="log option: max-size=SIZE (e.g. 10m)")
    many("-v", "--volume", metavar="[SRC:]DST[:OPTS]", help="mount a volume")
    many("--mount", metavar="type=...,target=...", help="add a mount")
    many("--tmpfs", metavar="DST[:OPTS]", help="mount a tmpfs")
    many(
        "--volumes-from",
        metavar="CONTAINER[:ro|rw]",
        help="mount another container's volumes and binds",
    )
    add("--platform", metavar="OS/ARCH[/VARIANT]", help="platform of the image")
    add(
        "--network",
        "--net",
        metavar="NETWORK",
        help="host, none, container:NAME or a network (default: servin)",
    )
    add("--ip", metavar="ADDRESS", help="the container's IPv4 address on its network")
    many("--network-alias", "--net-alias", metavar="NAME", help="a name on the network")
    many(
        "-p",
        "--publish",
        metavar="[IP:][HOSTPORT:]PORT[/PROTO]",
        help="publish a container's port on the host",
    )
    add(
        "-P",
        "--publish-all",
        action="store_true",
        help="publish every exposed port on a free host port",
    )
    add(
        "--pull",
        metavar="POLICY",
        default="missing",
        help="missing (the default), always or never",
    )

    parser.add_argument("image", metavar="IMAGE")
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="COMMAND [ARG...]")


def build_request(
    args: argparse.Namespace, environ: dict[str, str] | None = None
) -> CreateRequest:
    """Check every flag of ``args`` and build the request; InvalidArgument
    names the first bad one."""
    from servin_core.containers.model import ContainerConfig, parse_restart_policy
    from servin_core.containers.store import check_name
    from servin_tui.cli.containers_mounts import parse_mounts

    environ = dict(os.environ) if environ is None else environ
    restart = parse_restart_policy(args.restart)
    if args.rm and restart.name != "no":
        raise InvalidArgument(
            "--restart",
            args.restart,
            "conflicts with --rm (a policy needs the container)",
        )
    if args.workdir is not None and not args.workdir.startswith("/"):
        raise InvalidArgument("--workdir", args.workdir, "must be an absolute path")

    env: list[str] = []
    for path in args.env_file:
        env += parse_env_file(Path(path), environ)
    env += _variables(args.env, environ)

    config = ContainerConfig(
        image=args.image,
        entrypoint=_entrypoint(args.entrypoint),
        cmd=list(args.command) if args.command else None,
        env=env,
        user=args.user or None,
        workdir=args.workdir,
        hostname=args.hostname,
        labels=_labels(args.label),
        tty=args.tty,
        open_stdin=args.interactive,
        # docker's StdinOnce: the input of ``run -i`` (or a later ``start
        # -ai``) closes the container's stdin when it ends; ``run -di``
        # leaves it open for every attach.
        stdin_once=args.interactive and not getattr(args, "detach", False),
        cap_add=list(args.cap_add),
        cap_drop=list(args.cap_drop),
        privileged=args.privileged,
        security_opt=list(args.security_opt),
        read_only=args.read_only,
        init=args.init,
        resources=_resources(args),
        mounts=parse_mounts(args.volume, args.mount, args.tmpfs),
        volumes_from=list(args.volumes_from),
        restart=restart,
        auto_remove=args.rm,
        stop_signal=_signal(args.stop_signal),
        stop_timeout=_integer("--stop-timeout", args.stop_timeout),
        runtime=args.runtime,
        log_max_size=_log_max_size(args.log_opt),
        group_add=_groups(args.group_add),
        network=args.network,
        ip=args.ip,
        network_aliases=list(args.network_alias),
        publish=_publish(args.publish),
        publish_all=args.publish_all,
    )
    name = check_name(args.name) if args.name is not None else None
    if args.pull not in _PULL_POLICIES:
        raise InvalidArgument("--pull", args.pull, "expected missing, always or never")
    return CreateRequest(config, name, args.pull, args.platform)


def _publish(specs: list[str]) -> list[str]:
    """``-p`` values, checked now so that a bad one names the flag."""
    if not specs:
        return []  # without importing the network's model
    from servin_core.network.model import parse_publish

    for spec in specs:
        try:
            parse_publish(spec)
        except InvalidArgument as e:
            raise InvalidArgument("--publish", spec, e.reason) from None
    return list(specs)


def _log_max_size(items: list[str]) -> int | None:
    """``--log-opt`` values: the size limit, the only one conmon honours."""
    if not items:
        return None
    from servin_core.containers.log_options import log_max_size

    options = []
    for item in items:
        key, sep, value = item.partition("=")
        if not key or not sep:
            raise InvalidArgument(
                "--log-opt", item, "expected KEY=VALUE (max-size=10m)"
            )
        options.append((key, value))
    try:
        return log_max_size(options)
    except InvalidArgument as e:
        raise InvalidArgument("--log-opt", e.ident, e.reason) from None


def _groups(names: list[str]) -> list[str]:
    """``--group-add`` values; names are looked up in the image's
    /etc/group when the container starts, as its user is."""
    for name in names:
        if not name.strip():
            raise InvalidArgument("--group-add", repr(name), "the group is empty")
    return list(names)


def _integer(flag: str, text: str | None) -> int | None:
    """Numbers are checked here, not by argparse, so that a bad one is
    Servin's error (125) like every other bad value, not a usage error."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(flag, text, "not a whole number") from None


def _entrypoint(text: str | None) -> list[str] | None:
    """None keeps the image's; ``--entrypoint ""`` clears it, as in docker."""
    if text is None:
        return None
    return [text] if text else []


def _variables(items: Iterable[str], environ: dict[str, str]) -> list[str]:
    """``KEY=VALUE`` as given; a bare ``KEY`` takes this process's value,
    and is left out when this process has none (docker does the same)."""
    result: list[str] = []
    for item in items:
        key, sep, _ = item.partition("=")
        if not key:
            raise InvalidArgument("environment variable", item, "the name is empty")
        if sep:
            result.append(item)
        elif key in environ:
            result.append(f"{key}={environ[key]}")
    return result


def parse_env_file(path: Path, environ: dict[str, str]) -> list[str]:
    """docker's env file: ``KEY=VALUE`` lines, ``#`` comments, blank lines
    skipped, a bare ``KEY`` taken from this process's environment."""
    try:
        text = path.read_text()
    except OSError as e:
        raise InvalidArgument("--env-file", str(path), e.strerror or str(e)) from None
    lines = [line.lstrip() for line in text.splitlines()]
    items = [line for line in lines if line and not line.startswith("#")]
    for item in items:
        if " " in item.partition("=")[0] or "\t" in item.partition("=")[0]:
            raise InvalidArgument(
                "--env-file",
                str(path),
                f"variable {item!r} has white space in its name",
            )
    return _variables(items, environ)


def _labels(items: Sequence[str]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidArgument("--label", item, "the label's name is empty")
        labels[key] = value
    return labels


def _signal(text: str | None) -> str | None:
    """A signal name or number, checked; kept as given (``SIGTERM``, ``15``)."""
    if text is None:
        return None
    if text.isdigit():
        if not 0 < int(text) < signal.NSIG:
            raise InvalidArgument("--stop-signal", text, "no such signal number")
        return text
    name = text.upper()
    name = name if name.startswith("SIG") else f"SIG{name}"
    if not isinstance(getattr(signal.Signals, name, None), signal.Signals):
        raise InvalidArgument("--stop-signal", text, "no such signal")
    return name


def _resources(args: argparse.Namespace) -> Resources:
    from servin_core.containers.devices import parse_device
    from servin_core.containers.model import Resources
    from servin_core.containers.resources import parse_bytes, parse_cpus, parse_ulimit

    memory = _bytes("--memory", args.memory, parse_bytes)
    if memory is not None and memory < _MIN_MEMORY:
        raise InvalidArgument("--memory", args.memory, "the minimum is 6MiB")
    swap: int | None = None
    if args.memory_swap is not None:
        if memory is None:
            raise InvalidArgument(
                "--memory-swap", args.memory_swap, "needs a memory limit (--memory)"
            )
        swap = (
            -1
            if args.memory_swap == "-1"
            else _bytes("--memory-swap", args.memory_swap, parse_bytes)
        )
        assert swap is not None
        if swap != -1 and swap < memory:
            raise InvalidArgument(
                "--memory-swap",
                args.memory_swap,
                "must be at least the memory limit (it counts memory plus swap)",
            )
    shares = _integer("--cpu-shares", args.cpu_shares)
    if shares is not None and shares < 0:
        raise InvalidArgument("--cpu-shares", args.cpu_shares, "is negative")

    sysctls: dict[str, str] = {}
    for item in args.sysctl:
        key, sep, value = item.partition("=")
        if not key or not sep:
            raise InvalidArgument("--sysctl", item, "expected KEY=VALUE")
        sysctls[key] = value

    pids = _integer("--pids-limit", args.pids_limit)
    return Resources(
        memory=memory,
        memory_swap=swap,
        nano_cpus=parse_cpus(args.cpus) if args.cpus is not None else None,
        cpu_shares=shares,
        # docker reads 0 and -1 alike: no limit.
        pids_limit=pids if pids is not None and pids > 0 else None,
        ulimits=tuple(parse_ulimit(text) for text in args.ulimit),
        devices=tuple(parse_device(text) for text in args.device),
        sysctls=sysctls,
        shm_size=_bytes("--shm-size", args.shm_size, parse_bytes),
    )


def _bytes(flag: str, text: str | None, parse: Callable[[str], int]) -> int | None:
    """``parse(text)``, its error renamed after the flag the user typed."""
    if text is None:
        return None
    try:
        return parse(text)
    except InvalidArgument as e:
        raise InvalidArgument(flag, text, e.reason) from None
