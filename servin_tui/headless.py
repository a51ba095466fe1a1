"""``servin-tui --headless``: the core as a node daemon, serving the Engine API.

It listens on ``servin.sock`` in the run directory (mode 0660, group
``servin`` when that group exists) and, only when asked, on TCP; the CRI
(servin_cri) serves beside it on ``cri.sock``. A TCP
address must be loopback unless TLS with client certificates is
configured: the API gives root on the host to whoever reaches it.

The daemon is one more Servin process on the shared store: the CLI and the
TUI see what it does and it sees what they do. Opening the core reconciles
with what conmon recorded while no Servin process ran. SIGTERM or SIGINT
stops serving and leaves containers running (conmon holds them, not us).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import grp
import ipaddress
import os
import signal
import socket
import ssl
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument, ServinError, Unavailable

if TYPE_CHECKING:
    from aiohttp import web

    from servin_core.core import Core
    from servin_cri.server import CriServer

__all__ = ["Options", "check_tcp", "is_headless", "main", "parse_options", "serve"]

SOCKET_NAME = "servin.sock"
CRI_SOCKET_NAME = "cri.sock"
SOCKET_MODE = 0o660
SOCKET_GROUP = "servin"
_SHUTDOWN_TIMEOUT = 2.0
"""Seconds open requests (followed logs, events) get when the daemon stops."""
_SUN_PATH_MAX = 107
_GLOBAL_VALUES = frozenset({"--root", "--config", "--log-level", "--theme"})


@dataclass(frozen=True)
class Options:
    root: Path | None
    config: Path | None
    log_level: str
    tcp: tuple[str, ...]
    tls_ca: Path | None
    tls_cert: Path | None
    tls_key: Path | None


def is_headless(argv: Sequence[str]) -> bool:
    """Whether ``--headless`` is among the global options of ``argv``
    (before any command, so a container's own arguments never count)."""
    expecting_value = False
    for word in argv:
        if expecting_value:
            expecting_value = False
            continue
        if word == "--headless":
            return True
        if not word.startswith("-"):
            return False
        expecting_value = word in _GLOBAL_VALUES
    return False


def parse_options(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="servin-tui --headless",
        description=(
            "Serve docker's Engine API on RUN_DIR/servin.sock and the CRI on"
            " RUN_DIR/cri.sock, over the same store as the CLI and the TUI."
            " SIGTERM stops serving; containers keep running."
        ),
    )
    parser.add_argument("--headless", action="store_true", required=True)
    parser.add_argument(
        "--root", type=Path, metavar="DIR", help="keep all state under DIR"
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (TOML)"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("debug", "info", "warning", "error", "critical"),
        metavar="LEVEL",
        help="log to stderr from this level on (default: info)",
    )
    parser.add_argument(
        "--tcp",
        action="append",
        default=[],
        metavar="HOST:PORT",
        help="also listen on TCP: loopback only, unless the three TLS files are given",
    )
    parser.add_argument(
        "--tlscacert",
        type=Path,
        metavar="FILE",
        help="CA that signs the clients' certificates",
    )
    parser.add_argument(
        "--tlscert", type=Path, metavar="FILE", help="the daemon's certificate"
    )
    parser.add_argument(
        "--tlskey", type=Path, metavar="FILE", help="the daemon's private key"
    )
    parser.add_argument("--theme", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return Options(
        root=args.root,
        config=args.config,
        log_level=args.log_level,
        tcp=tuple(args.tcp),
        tls_ca=args.tlscacert,
        tls_cert=args.tlscert,
        tls_key=args.tlskey,
    )


def _split_address(text: str) -> tuple[str, int]:
    host, sep, port = text.removeprefix("tcp://").rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise InvalidArgument("tcp address", text, "expected HOST:PORT")
    return host, int(port)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_tcp(options: Options) -> tuple[list[tuple[str, int]], ssl.SSLContext | None]:
    """The TCP addresses to serve on and the TLS context, or InvalidArgument
    if an address is not loopback and TLS with client certificates is not
    fully configured."""
    addresses = [_split_address(text) for text in options.tcp]
    tls_files = (options.tls_ca, options.tls_cert, options.tls_key)
    if any(tls_files) and not all(tls_files):
        raise InvalidArgument(
            "tls", "", "--tlscacert, --tlscert and --tlskey go together"
        )
    for (host, _port), text in zip(addresses, options.tcp, strict=True):
        if not _is_loopback(host) and not all(tls_files):
            raise InvalidArgument(
                "tcp address",
                text,
                "refusing to listen beyond loopback without TLS client certificates"
                " (--tlscacert, --tlscert, --tlskey): the API gives root on this host",
            )
    if not all(tls_files):
        return addresses, None
    assert options.tls_ca and options.tls_cert and options.tls_key
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(options.tls_cert, options.tls_key)
        context.load_verify_locations(cafile=options.tls_ca)
    except (OSError, ssl.SSLError) as e:
        raise InvalidArgument("tls", str(options.tls_cert), str(e)) from e
    context.verify_mode = ssl.CERT_REQUIRED
    return addresses, context


def _claim_socket(path: Path) -> None:
    """Remove a socket left by a daemon that died; refuse a live one."""
    if not path.exists() and not path.is_symlink():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()
        return
    finally:
        probe.close()
    raise Unavailable("socket", str(path), "another Servin daemon is serving it")


def _secure_socket(path: Path) -> None:
    os.chmod(path, SOCKET_MODE)
    try:
        group = grp.getgrnam(SOCKET_GROUP).gr_gid
    except KeyError:
        return
    os.chown(path, -1, group)


async def serve(core: Core, options: Options, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set."""
    from aiohttp import web

    from servin_core import log
    from servin_core.api.app import make_app

    addresses, tls = check_tcp(options)
    path = core.config.run_dir / SOCKET_NAME
    _claim_socket(path)

    app = make_app(core)
    runner = web.AppRunner(
        app, handle_signals=False, shutdown_timeout=_SHUTDOWN_TIMEOUT, access_log=None
    )
    await runner.setup()
    sites: list[web.BaseSite] = []
    ours = -1
    try:
        unix = web.UnixSite(runner, str(path))
        if len(os.fsencode(path)) > _SUN_PATH_MAX:
            raise InvalidArgument(
                "socket",
                str(path),
                f"longer than the {_SUN_PATH_MAX} bytes a unix socket's path may"
                " have; choose a shorter --root",
            )
        await unix.start()
        sites.append(unix)
        _secure_socket(path)
        ours = path.stat().st_ino
        log.api.info("serving the Engine API on %s", path)
        for host, port in addresses:
            tcp = web.TCPSite(runner, host, port, ssl_context=tls)
            await tcp.start()
            sites.append(tcp)
            log.api.info("serving the Engine API on %s:%d", host, port)
        cri = await _start_cri(core)
        _ready(path)
        try:
            await stop.wait()
        finally:
            if cri is not None:
                await cri.stop()
    finally:
        log.api.info("stopping; containers keep running")
        await runner.cleanup()
        _remove_socket(path, ours)


def _remove_socket(path: Path, inode: int) -> None:
    """Remove our socket, unless a daemon started while we stopped has
    already put its own at the path."""
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_ino == inode:
            path.unlink()


async def _start_cri(core: Core) -> CriServer | None:
    """The CRI beside the Engine API, on ``cri.sock`` in the run directory;
    None, logged as an error, if it cannot start: the Engine API serves on
    without it."""
    from servin_core import log

    path = core.config.run_dir / CRI_SOCKET_NAME
    try:
        from servin_cri.cni import CniLocations
        from servin_cri.server import CriServer

        cni = CniLocations(conf_dir=core.config.cni_conf_dir)
        cri = CriServer(core, path, cni=cni)
        await cri.start()
    except (ImportError, OSError, ServinError) as e:
        log.api.error("the CRI is not served on %s: %s", path, e)
        return None
    return cri


def _ready(path: Path) -> None:
    """Tell whoever started us (a test, a supervisor) where we serve."""
    print(f"serving on unix://{path}", file=sys.stderr, flush=True)


async def _run(options: Options) -> None:
    from servin_core.config import load_config
    from servin_core.core import Core

    config = load_config(options.config)
    if options.root is not None:
        config = config.with_root(options.root.absolute())
    check_tcp(options)  # refuse a bad address before touching the store

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    core = await asyncio.to_thread(Core.open, config)
    try:
        await serve(core, options, stop)
    finally:
        core.close()


def main(argv: Sequence[str]) -> int:
    """Run the daemon; its exit status."""
    from servin_core import log

    options = parse_options(argv)
    try:
        log.configure(options.log_level)
    except ValueError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    try:
        asyncio.run(_run(options))
    except ServinError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    return 0
