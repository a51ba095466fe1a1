"""``images`` (``image ls``) and ``tag``.

The listing shows one row per name, as docker does: an image tagged twice
appears twice, an image known only by digest shows ``<none>`` as its tag,
and an image with no name at all (dangling) shows ``<none>`` twice.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from servin_core.errors import InvalidArgument
from servin_tui.cli.command import Command, Session
from servin_tui.cli.humanize import go_time, human_age, human_size, parse_time
from servin_tui.cli.output import Column, print_rows

if TYPE_CHECKING:
    from servin_core.images.store import Image

__all__ = ["COMMANDS", "image_rows"]

_NONE = "<none>"
# Headers of the fields that are not default columns, for ``table`` formats.
_LABELS = {
    "CreatedAt": "CREATED AT",
    "Digest": "DIGEST",
    "SharedSize": "SHARED SIZE",
    "UniqueSize": "UNIQUE SIZE",
    "VirtualSize": "VIRTUAL SIZE",
}


def _configure_images(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="show all images (the default)"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="only show image IDs"
    )
    parser.add_argument("--digests", action="store_true", help="show digests")
    parser.add_argument("--no-trunc", action="store_true", help="do not truncate IDs")
    parser.add_argument(
        "--format", metavar="FORMAT", help="'json', or a Go template ('table ...')"
    )
    parser.add_argument(
        "-f",
        "--filter",
        action="append",
        default=[],
        metavar="FILTER",
        help="dangling=true|false or reference=PATTERN (repeatable)",
    )
    parser.add_argument(
        "repository", nargs="?", metavar="REPOSITORY[:TAG]", help="only this name"
    )


async def _run_images(session: Session, args: argparse.Namespace) -> int:
    dangling, patterns = _parse_filters(args.filter)
    if args.repository:
        patterns.append(args.repository)
    patterns = [_familiar_pattern(pattern) for pattern in patterns]

    images = session.core().images.list()
    if dangling is not None:
        images = [image for image in images if (not image.tags) == dangling]
    images.sort(key=_created_or_added, reverse=True)

    rows = image_rows(images, digests=args.digests, no_trunc=args.no_trunc)
    if patterns:
        rows = [row for row in rows if _matches_any(row, patterns)]

    if args.quiet:
        for row in rows:
            session.out(row["ID"])
        return 0
    columns: list[Column] = [("Repository", "REPOSITORY"), ("Tag", "TAG")]
    if args.digests:
        columns.append(("Digest", "DIGEST"))
    columns += [("ID", "IMAGE ID"), ("CreatedSince", "CREATED"), ("Size", "SIZE")]
    print_rows(session.stdout, rows, columns, args.format, _LABELS)
    return 0


def _parse_filters(filters: Iterable[str]) -> tuple[bool | None, list[str]]:
    dangling: bool | None = None
    patterns: list[str] = []
    for text in filters:
        key, sep, value = text.partition("=")
        if not sep:
            raise InvalidArgument("filter", text, "expected KEY=VALUE")
        if key == "dangling":
            if value.lower() not in ("true", "false", "1", "0"):
                raise InvalidArgument("filter", text, "dangling takes true or false")
            dangling = value.lower() in ("true", "1")
        elif key == "reference":
            patterns.append(value)
        else:
            raise InvalidArgument(
                "filter", text, f"unsupported filter {key!r} (dangling, reference)"
            )
    return dangling, patterns


def _created_or_added(image: Image) -> float:
    created = parse_time(image.created)
    return created if created is not None else image.added_at


def image_rows(
    images: Iterable[Image], *, digests: bool = False, no_trunc: bool = False
) -> list[dict[str, Any]]:
    """docker's listing rows (its JSON field names) for ``images``."""
    from servin_core.images.reference import parse_reference

    rows: list[dict[str, Any]] = []
    for image in images:
        tags: dict[str, list[str]] = {}
        for name in sorted(image.tags):
            ref = parse_reference(name)
            tags.setdefault(ref.familiar_repository(), []).append(ref.tag or _NONE)
        by_digest: dict[str, list[str]] = {}
        for name in sorted(image.repo_digests):
            ref = parse_reference(name, default_tag=False)
            by_digest.setdefault(ref.familiar_repository(), []).append(
                ref.digest or _NONE
            )

        names: list[tuple[str, str, str]] = []
        for repository, repo_tags in tags.items():
            repo_digests = by_digest.pop(repository, [])
            shown = repo_digests if digests and repo_digests else [_NONE]
            names += [
                (repository, tag, digest) for tag in repo_tags for digest in shown
            ]
        for repository, repo_digests in by_digest.items():
            for digest in repo_digests if digests else [_NONE]:
                names.append((repository, _NONE, digest))
        if not names:
            names.append((_NONE, _NONE, _NONE))

        for repository, tag, digest in names:
            rows.append(_row(image, repository, tag, digest, no_trunc))
    return rows


def _row(
    image: Image, repository: str, tag: str, digest: str, no_trunc: bool
) -> dict[str, Any]:
    created = parse_time(image.created)
    size = human_size(image.size)
    return {
        "Containers": "N/A",
        "CreatedAt": go_time(created) if created is not None else "N/A",
        "CreatedSince": human_age(created),
        "Digest": digest,
        "ID": image.id if no_trunc else image.short_id,
        "Repository": repository,
        "SharedSize": "N/A",
        "Size": size,
        "Tag": tag,
        "UniqueSize": "N/A",
        "VirtualSize": size,
    }


def _matches_any(row: dict[str, Any], patterns: Iterable[str]) -> bool:
    if row["Repository"] == _NONE:
        return False
    names = [row["Repository"]]
    if row["Tag"] != _NONE:
        names.append(f"{row['Repository']}:{row['Tag']}")
    return any(_glob(pattern).fullmatch(name) for pattern in patterns for name in names)


def _familiar_pattern(pattern: str) -> str:
    """A name written in full (``docker.io/library/busybox``) as the rows
    show it (``busybox``); patterns with wildcards are left alone."""
    from servin_core.images.reference import parse_reference

    if any(char in pattern for char in "*?["):
        return pattern
    try:
        return parse_reference(pattern, default_tag=False).familiar()
    except InvalidArgument:
        return pattern


def _glob(pattern: str) -> re.Pattern[str]:
    """A shell pattern as Go's ``path.Match`` reads it: ``*`` stops at ``/``."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append("[^/]*")
        elif char == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts))


def _configure_tag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE_IMAGE[:TAG]")
    parser.add_argument("target", metavar="TARGET_IMAGE[:TAG]")


async def _run_tag(session: Session, args: argparse.Namespace) -> int:
    from servin_core.images.reference import parse_reference

    core = session.core()
    image = core.images.resolve(args.source)
    core.images.tag(image, parse_reference(args.target))
    return 0


COMMANDS = [
    Command("images", ("ls", "list"), "list images", _configure_images, _run_images),
    Command("tag", ("tag",), "add a name to an image", _configure_tag, _run_tag),
]
