"""Starting and stopping a network's responder from short-lived commands.

Servin has no daemon, so each network with name resolution gets one small
process of its own (``python -m servin_core.network.dns``), started by the
first container that joins and stopped when the last one leaves. Every
change happens under a file lock per network in the run directory, so two
commands that race start one responder, and a stop cannot cross a start.
The pid file holds the responder's owner token (PID and start time), so a
responder that died, or a PID reused after a reboot, reads as gone.
"""

from __future__ import annotations

import fcntl
import logging
import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core._process import is_alive
from servin_core.errors import Unavailable

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["NetworkLike", "ResponderPaths", "ensure_responder", "release_responder"]

PORT = 53
_START_TIMEOUT = 30.0  # a deadline for a wedged start, not an expectation
_STOP_TIMEOUT = 10.0


class NetworkLike(Protocol):
    """What the responder needs of a network (the networks package's
    ``Network`` has these and more)."""

    @property
    def id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def gateway(self) -> str: ...
    @property
    def dns(self) -> bool: ...


@dataclass(frozen=True)
class ResponderPaths:
    """A network's responder files under the run directory."""

    lock: Path
    pid: Path
    log: Path

    @classmethod
    def of(cls, run_dir: Path, network_id: str) -> ResponderPaths:
        base = run_dir / "dns"
        return cls(
            base / f"{network_id}.lock",
            base / f"{network_id}.pid",
            base / f"{network_id}.log",
        )

    def running_token(self) -> str | None:
        """The live responder's owner token, or None."""
        try:
            token = self.pid.read_text().strip()
        except FileNotFoundError:
            return None
        return token if _serving(token) else None


def ensure_responder(core: Core, network: NetworkLike) -> None:
    """Make sure a responder serves ``network`` on its gateway, port 53.

    Nothing happens for a network without name resolution (the default
    network, as in docker). Raises Unavailable if the responder cannot
    listen (the port is taken, say).

    Call it once the joining endpoint's address is stored: a release in
    another process decides from the stored addresses under the same lock,
    so whichever of the two runs second sees the new container.
    """
    if not network.dns:
        return
    # TODO: a responder that dies while its containers run is replaced only
    # when the next container joins; Core.open's tidy could ensure the
    # responders of networks with live endpoints.
    paths = ResponderPaths.of(core.config.run_dir, network.id)
    with _locked(paths.lock):
        if paths.running_token() is not None:
            return
        token = _start(core, network, paths)
        tmp = paths.pid.with_suffix(".pid.tmp")
        tmp.write_text(token + "\n")
        tmp.replace(paths.pid)
    log.for_object(log.dns, "network", network.id).info(
        "responder %s started on %s", token, network.gateway
    )


def release_responder(core: Core, network: NetworkLike) -> None:
    """Stop ``network``'s responder if no endpoint on it is live.

    An endpoint is live while it holds an address: a stopped container
    keeps its endpoint row (its place on the network) but not its address,
    and nobody can ask a responder anything from a stopped container.
    """
    paths = ResponderPaths.of(core.config.run_dir, network.id)
    if not paths.lock.parent.exists():
        return
    with _locked(paths.lock):
        row = core.db.query_one(
            "SELECT COUNT(*) FROM endpoints WHERE network_id = ? AND ip != ''",
            (network.id,),
        )
        if row is not None and row[0]:
            return
        token = paths.running_token()
        if token is not None:
            _stop(token)
            log.for_object(log.dns, "network", network.id).info(
                "responder %s stopped", token
            )
        paths.pid.unlink(missing_ok=True)


def _serving(token: str) -> bool:
    """Whether the process of ``token`` runs: a killed responder stays a
    zombie until its new parent (init, far from here) reaps it, and a
    zombie answers nobody."""
    if not is_alive(token):
        return False
    try:
        stat = Path(f"/proc/{token.split('.', 1)[0]}/stat").read_bytes()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2 :][:1] != b"Z"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _start(core: Core, network: NetworkLike, paths: ResponderPaths) -> str:
    """Run the responder and return its owner token once it listens.

    The process forks once it has bound its sockets and opened the
    database: the child serves in a session of its own and prints its
    token, and the parent exits, so no command waits for it or leaves a
    zombie behind.
    """
    level = logging.getLevelName(log.root.getEffectiveLevel()).lower()
    argv = [
        sys.executable,
        "-m",
        "servin_core.network.dns",
        "--database",
        str(core.db.path.absolute()),
        "--network-id",
        network.id,
        "--address",
        network.gateway,
        "--port",
        str(PORT),
        "--log-file",
        str(paths.log.absolute()),
        "--log-level",
        level,
    ]
    try:
        proc = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            start_new_session=True,
            timeout=_START_TIMEOUT,
        )
    except subprocess.TimeoutExpired as e:
        raise Unavailable(
            "network", network.name, "the DNS responder did not start in time"
        ) from e
    token = proc.stdout.strip()
    if not token or not _serving(token):
        reason = proc.stderr.strip().splitlines()[-1:] or ["it exited"]
        raise Unavailable(
            "network", network.name, f"the DNS responder did not start: {reason[0]}"
        )
    return token


def _stop(token: str) -> None:
    """SIGTERM the responder named by ``token`` and wait for it to end."""
    pid = int(token.split(".", 1)[0])
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        # Checked after the pidfd is held: the PID cannot be reused now.
        if not _serving(token):
            return
        for signum in (signal.SIGTERM, signal.SIGKILL):
            signal.pidfd_send_signal(fd, signum)
            readable, _, _ = select.select([fd], [], [], _STOP_TIMEOUT)
            if readable:
                return
    finally:
        os.close(fd)
