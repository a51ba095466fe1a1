"""``inspect`` and ``history``: an image's details in docker's shapes."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
from typing import Any

from servin_core.errors import ServinError
from servin_tui.cli.command import Command, Session
from servin_tui.cli.humanize import go_time, human_age, human_size, parse_time
from servin_tui.cli.output import Column, print_rows
from servin_tui.cli.template import Template, go_json

__all__ = ["COMMANDS", "print_inspected"]

_CREATED_BY_WIDTH = 45


def _configure_inspect(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-f",
        "--format",
        metavar="TEMPLATE",
        help="print each object through a Go template",
    )
    parser.add_argument("names", nargs="+", metavar="NAME")


async def _run_inspect(session: Session, args: argparse.Namespace) -> int:
    """Print every image found, then one error line per name not found:
    a script gets the found part and still sees the failure (docker does the
    same)."""
    from servin_core.images.inspect import inspect

    core = session.core()
    return print_inspected(
        session,
        args.names,
        lambda name: inspect(core, core.images.resolve(name)),
        args.format,
    )


def print_inspected(
    session: Session,
    names: Iterable[str],
    details_of: Callable[[str], dict[str, Any]],
    template_text: str | None,
) -> int:
    """Print the details of every object found (a JSON array, or each
    through the template), then one error line per name not found: a script
    gets the found part and still sees the failure, as with docker. The
    command's exit status."""
    template = Template(template_text) if template_text else None
    found: list[dict[str, Any]] = []
    missing: list[ServinError] = []
    for name in names:
        try:
            found.append(details_of(name))
        except ServinError as e:
            missing.append(e)

    if template is None:
        session.out(go_json(found, indent=4))
    else:
        for details in found:
            session.out(template.render(details))
    for error in missing:
        session.warn(f"Error: {error}")
    return 1 if missing else 0


def _configure_history(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="only show image IDs"
    )
    parser.add_argument(
        "--no-trunc", action="store_true", help="do not truncate the output"
    )
    parser.add_argument(
        "-H",
        "--human",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="print sizes and dates in human-readable form (default)",
    )
    parser.add_argument("--format", metavar="FORMAT", help="'json' or a Go template")
    parser.add_argument("image", metavar="IMAGE")


async def _run_history(session: Session, args: argparse.Namespace) -> int:
    from servin_core.images.inspect import history

    core = session.core()
    image = core.images.resolve(args.image)
    rows = [_history_row(entry, args) for entry in history(core, image)]
    if args.quiet:
        for row in rows:
            session.out(row["ID"])
        return 0
    columns: list[Column] = [
        ("ID", "IMAGE"),
        ("CreatedSince", "CREATED"),
        ("CreatedBy", "CREATED BY"),
        ("Size", "SIZE"),
        ("Comment", "COMMENT"),
    ]
    print_rows(session.stdout, rows, columns, args.format, {"CreatedAt": "CREATED AT"})
    return 0


def _history_row(entry: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    image_id = str(entry["Id"])
    if not args.no_trunc and image_id.startswith("sha256:"):
        image_id = image_id.removeprefix("sha256:")[:12]

    created = parse_time(entry.get("Created"))
    created_by = str(entry.get("CreatedBy", "")).replace("\t", " ").replace("\n", " ")
    if not args.no_trunc and len(created_by) > _CREATED_BY_WIDTH:
        created_by = created_by[: _CREATED_BY_WIDTH - 1] + "…"
    size = int(entry.get("Size", 0))
    if args.human:
        since, size_text = human_age(created), human_size(size)
    else:
        since = entry.get("Created") or "N/A"
        size_text = str(size)
    return {
        "ID": image_id,
        "CreatedAt": go_time(created) if created is not None else "N/A",
        "CreatedSince": since,
        "CreatedBy": created_by,
        "Size": size_text,
        "Comment": entry.get("Comment", ""),
    }


COMMANDS = [
    Command(
        "inspect",
        ("inspect",),
        "show details of images as JSON",
        _configure_inspect,
        _run_inspect,
    ),
    Command(
        "history",
        ("history",),
        "show the history of an image",
        _configure_history,
        _run_history,
    ),
]
