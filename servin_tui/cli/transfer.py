"""``pull`` and ``push``, with docker's progress output.

aiohttp comes in with the core's registry client, imported only when one
of these commands runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from servin_tui.cli.command import Command, Session
from servin_tui.cli.progress import open_progress

if TYPE_CHECKING:
    from servin_core.images.reference import Reference
    from servin_core.images.store import Image

__all__ = ["COMMANDS"]


def _configure_pull(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platform", metavar="OS/ARCH[/VARIANT]", help="pull this platform's image"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only the image name"
    )
    parser.add_argument("name", metavar="NAME[:TAG|@DIGEST]")


async def _run_pull(session: Session, args: argparse.Namespace) -> int:
    from servin_core.images.pull import pull
    from servin_core.images.reference import parse_reference

    ref = parse_reference(args.name)
    if not args.quiet:
        if _uses_default_tag(args.name):
            session.out("Using default tag: latest")
        session.out(f"{ref.tag or ref.digest}: Pulling from {ref.path}")

    with open_progress(session.stdout, "pull", quiet=args.quiet) as progress:
        image = await pull(
            session.core(), args.name, platform=args.platform, progress=progress
        )

    if not args.quiet:
        session.out(f"Digest: {_pulled_digest(image, ref)}")
        status = (
            "Downloaded newer image" if progress.transferred else "Image is up to date"
        )
        session.out(f"Status: {status} for {ref.familiar()}")
    session.out(str(ref))
    return 0


def _configure_push(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only the image name"
    )
    parser.add_argument("name", metavar="NAME[:TAG]")


async def _run_push(session: Session, args: argparse.Namespace) -> int:
    from servin_core.images.push import push
    from servin_core.images.reference import parse_reference

    ref = parse_reference(args.name)
    core = session.core()
    if not args.quiet:
        if _uses_default_tag(args.name):
            session.out("Using default tag: latest")
        session.out(f"The push refers to repository [{ref.repository}]")

    layers = {layer.digest for layer in core.images.resolve(args.name).layers}
    display = open_progress(session.stdout, "push", quiet=args.quiet, only=layers)
    with display as progress:
        digest = await push(core, args.name, progress=progress)

    if args.quiet:
        session.out(str(ref))
    else:
        size = core.content.size(digest) if core.content.exists(digest) else 0
        session.out(f"{ref.tag or 'latest'}: digest: {digest} size: {size}")
    return 0


def _pulled_digest(image: Image, ref: Reference) -> str:
    """The digest the name resolved to in the registry: the index's for a
    multi-platform image, as docker reports it, else the manifest's."""
    from servin_core.images.reference import parse_reference

    for name in image.repo_digests:
        known = parse_reference(name, default_tag=False)
        if known.repository == ref.repository and known.digest:
            return known.digest
    return image.manifest_digest


def _uses_default_tag(name: str) -> bool:
    """Whether ``name`` has neither tag nor digest (so ``latest`` is meant)."""
    return "@" not in name and ":" not in name.rsplit("/", 1)[-1]


COMMANDS = [
    Command("pull", ("pull",), "download an image", _configure_pull, _run_pull),
    Command("push", ("push",), "upload an image", _configure_push, _run_push),
]
