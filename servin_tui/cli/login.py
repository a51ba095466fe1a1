"""``login`` and ``logout``: credentials for registries.

The password comes from ``--password-stdin`` (for scripts), ``-p`` (with a
warning: other users can read a command line) or the terminal; with none of
them and no terminal, the command fails instead of waiting for input.
"""

from __future__ import annotations

import argparse
import getpass

from servin_core.errors import InvalidArgument, NotFound
from servin_tui.cli.command import Command, Session

__all__ = ["COMMANDS"]


def _configure_login(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-u", "--username", metavar="USER")
    parser.add_argument("-p", "--password", metavar="PASS")
    parser.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    parser.add_argument("server", nargs="?", default="docker.io", metavar="SERVER")


async def _run_login(session: Session, args: argparse.Namespace) -> int:
    from servin_core.registry.credentials import login

    username, password = _credentials(session, args)
    await login(session.core(), args.server, username, password)
    session.out("Login Succeeded")
    return 0


def _credentials(session: Session, args: argparse.Namespace) -> tuple[str, str]:
    """The user name and password from the flags, stdin or the terminal."""
    interactive = session.stdin_is_terminal()
    if args.password_stdin:
        if args.password:
            raise InvalidArgument(
                "login", args.server, "give -p or --password-stdin, not both"
            )
        if not args.username:
            raise InvalidArgument(
                "login", args.server, "--password-stdin needs --username"
            )
        text = session.stdin.read() if session.stdin else ""
        return args.username, text.rstrip("\r\n")

    username = args.username
    if not username:
        if not interactive:
            raise InvalidArgument(
                "login", args.server, "no terminal to ask for a user name; use -u"
            )
        username = input("Username: ").strip()
    password = args.password
    if password:
        session.warn("WARNING! A password given with -p is visible to other users;")
        session.warn("use --password-stdin instead.")
    else:
        if not interactive:
            raise InvalidArgument(
                "login",
                args.server,
                "no terminal to ask for a password; use -p or --password-stdin",
            )
        password = getpass.getpass("Password: ")
    return username, password


def _configure_logout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("server", nargs="?", default="docker.io", metavar="SERVER")


async def _run_logout(session: Session, args: argparse.Namespace) -> int:
    from servin_core.registry.credentials import logout, normalize_server

    server = normalize_server(args.server)
    try:
        logout(session.core(), args.server)
    except NotFound:
        session.out(f"Not logged in to {server}")
        return 0
    session.out(f"Removing login credentials for {server}")
    return 0


COMMANDS = [
    Command("login", (), "log in to a registry", _configure_login, _run_login),
    Command("logout", (), "log out of a registry", _configure_logout, _run_logout),
]
