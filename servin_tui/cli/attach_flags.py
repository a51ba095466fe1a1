"""The attach flags of ``run``, ``start`` and ``attach``, apart from the
attach itself (containers_attach.py), whose event loop and terminal
modules ``run -d`` and a plain foreground ``run`` do not need to parse."""

from __future__ import annotations

import argparse

__all__ = ["add_attach_flags", "detach_keys_of"]


def add_attach_flags(parser: argparse.ArgumentParser) -> None:
    """``--detach-keys`` and ``--sig-proxy``, as docker's ``run``, ``start``
    and ``attach`` take them."""
    parser.add_argument(
        "--detach-keys",
        metavar="KEYS",
        help="keys that detach, leaving the container running (default ctrl-p,ctrl-q)",
    )
    parser.add_argument(
        "--sig-proxy",
        default="true",
        choices=("true", "false"),
        help="pass SIGINT and SIGTERM on to the container (without a tty)",
    )


def detach_keys_of(args: argparse.Namespace) -> bytes:
    """The detach keys asked for, checked (InvalidArgument if bad)."""
    from servin_core.containers.attach_keys import (
        DEFAULT_DETACH_KEYS,
        parse_detach_keys,
    )

    if args.detach_keys is None:
        return DEFAULT_DETACH_KEYS
    return parse_detach_keys(args.detach_keys)
