"""How commands print lists of objects: a table, JSON lines, or a template.

Every listing command builds rows (dicts with docker's field names) and
hands them to :func:`print_rows` with the ``--format`` value:

- no format: the command's default columns, as a table;
- ``json``: one JSON object per row, as ``{{json .}}`` prints it;
- ``table TEMPLATE``: a header of column labels, then the template per row,
  aligned as a table;
- any other text: the template per row, one line each.

Tables are aligned as docker's tabwriter aligns them (columns at least ten
wide, three spaces of padding) so that the output lines up identically.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from servin_tui.cli.template import Template, go_json

__all__ = ["Column", "familiar", "print_rows", "write_table"]

_MIN_WIDTH = 10
_PADDING = 3

Column = tuple[str, str]
"""A default column: the row's field name and its header label."""


def write_table(out: TextIO, lines: Sequence[Sequence[str]]) -> None:
    """Write ``lines`` of cells aligned in columns; the last cell is not padded."""
    if not lines:
        return
    columns = max(len(line) for line in lines)
    widths = [0] * columns
    for line in lines:
        for index, cell in enumerate(line[:-1]):
            widths[index] = max(widths[index], len(cell) + _PADDING, _MIN_WIDTH)
    for line in lines:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(line[:-1])]
        out.write("".join(cells) + (line[-1] if line else "") + "\n")


def print_rows(
    out: TextIO,
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[Column],
    format_text: str | None,
    labels: Mapping[str, str] | None = None,
) -> None:
    """Print ``rows`` in the form ``format_text`` asks for (see the module doc).

    ``labels`` name the header of fields that are not default ``columns``;
    any other field's header is its name in capitals.
    """
    if not format_text or format_text == "table":
        lines = [[label for _, label in columns]]
        lines += [[str(row[field]) for field, _ in columns] for row in rows]
        write_table(out, lines)
        return

    if format_text == "json":
        for row in rows:
            out.write(go_json(dict(row), sort_keys=True) + "\n")
        return

    text = format_text.replace("\\t", "\t").replace("\\n", "\n")
    if text.startswith("table"):
        template = Template(text.removeprefix("table").strip(" "))
        headers = {**(labels or {}), **dict(columns)}
        lines = [template.header(headers).split("\t")]
        lines += [template.render(row, strict=True).split("\t") for row in rows]
        write_table(out, lines)
        return

    template = Template(text)
    for row in rows:
        out.write(template.render(row, strict=True) + "\n")


def familiar(name: str) -> str:
    """A stored name as docker shows it (``busybox:latest``); IDs and
    anything unparsable pass through unchanged."""
    from servin_core.errors import InvalidArgument
    from servin_core.images.reference import parse_reference

    if name.startswith("sha256:"):
        return name
    try:
        return parse_reference(name, default_tag=False).familiar()
    except InvalidArgument:
        return name
