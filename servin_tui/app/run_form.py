"""The run dialog's fields, read with the CLI's own parsers.

Each field becomes the words ``servin-tui run`` would be given for it
(``--memory=512m``, ``--publish=8080:80``, ...), and the words go through
the CLI's argument parser and ``build_request``: a value means here what it
means on the command line, and a flag the CLI learns (ports, networks,
volumes) works here the day it lands. A flag the CLI does not know yet is
refused by name instead of ignored.

Each field is also parsed on its own, so that an error is shown next to
the field it is about, and every bad field at once.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Mapping

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument, ServinError
from servin_tui.cli.containers_flags import (
    CreateRequest,
    add_create_flags,
    build_request,
)

__all__ = ["FIELDS", "FormField", "parse_form"]


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    hint: str
    flag: str | None
    """The CLI's long flag for the field (None: not a flag)."""
    many: bool = False
    """Whether the field holds several values, split as a shell would."""


FIELDS = (
    FormField("image", "Image", "busybox:latest", None),
    FormField("name", "Name", "empty: a generated name", "--name"),
    FormField("command", "Command", "empty: the image's; sh -c 'echo hi'", None),
    FormField("ports", "Ports", "8080:80 127.0.0.1:53:53/udp", "--publish", True),
    FormField("env", "Environment", "KEY=VALUE KEY2='two words'", "--env", True),
    FormField("volumes", "Volumes", "/host/dir:/dir data:/var/lib/x", "--volume", True),
    FormField("network", "Network", "empty: the default network", "--network"),
    FormField(
        "restart", "Restart", "no, on-failure[:N], always, unless-stopped", "--restart"
    ),
    FormField("memory", "Memory", "512m", "--memory"),
    FormField("cpus", "CPUs", "1.5", "--cpus"),
)
"""The fields, in the order the dialog shows them."""

_NO_IMAGE = "placeholder"
"""The image a field is checked with when the image field is empty."""


class _Refused(Exception):
    """argparse's complaint, instead of its exit."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Refused(message)


def _parser() -> _Parser:
    parser = _Parser(prog="run", add_help=False, allow_abbrev=False)
    add_create_flags(parser)
    return parser


def _words(field: FormField, value: str) -> list[str]:
    """The CLI words for one field's text; InvalidArgument if the text does
    not split (an unclosed quote)."""
    value = value.strip()
    if not value:
        return []
    if not field.many and field.flag is not None:
        return [f"{field.flag}={value}"]
    try:
        items = shlex.split(value)
    except ValueError as e:
        raise InvalidArgument(field.label.lower(), value, str(e)) from None
    if field.flag is None:
        return items
    return [f"{field.flag}={item}" for item in items]


def _request(flags: list[str], image: str, command: list[str]) -> CreateRequest:
    """``build_request`` for these words, as ``run`` would make it."""
    try:
        args, unknown = _parser().parse_known_args([*flags, image, *command])
    except _Refused as e:
        raise InvalidArgument("run", "", str(e)) from None
    if unknown:
        flag = unknown[0].partition("=")[0]
        raise InvalidArgument(
            flag, "", "not supported by this version of Servin's run command yet"
        )
    return build_request(args)


def _check_image(text: str) -> None:
    from servin_core.images.reference import parse_reference

    parse_reference(text)


def parse_form(
    values: Mapping[str, str],
) -> tuple[CreateRequest | None, dict[str, str]]:
    """The request the fields make, or None and, per bad field, why."""
    errors: dict[str, str] = {}
    words: dict[str, list[str]] = {}
    image = values.get("image", "").strip()
    if not image:
        errors["image"] = "an image is needed"
    else:
        try:
            _check_image(image)
        except ServinError as e:
            errors["image"] = str(e)

    for field in FIELDS:
        if field.key == "image":
            continue
        try:
            words[field.key] = _words(field, values.get(field.key, ""))
            command = words[field.key] if field.flag is None else []
            flags = words[field.key] if field.flag is not None else []
            _request(flags, image or _NO_IMAGE, command)
        except ServinError as e:
            errors[field.key] = str(e)
    if errors:
        return None, errors

    flags = [w for f in FIELDS if f.flag is not None for w in words[f.key]]
    try:
        return _request(flags, image, words["command"]), {}
    except ServinError as e:
        # Fields fine alone but not together (--memory-swap and --memory).
        return None, {"image": str(e)}
