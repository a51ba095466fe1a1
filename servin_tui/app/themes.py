"""Themes: Textual CSS files in ``themes/``, and the one the user chose.

A theme file's ``$name: value;`` lines become a Textual :class:`Theme`
(the colours every widget uses); the rest of the file is loaded as CSS, and
its rules are scoped to ``App.-theme-NAME``, the class Textual gives the app
while that theme is active. The choice is kept in ``tui.json`` under the
data directory, so the next start uses it.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from textual.color import Color
from textual.theme import Theme

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument

__all__ = [
    "DEFAULT_THEME",
    "ThemeFile",
    "find_themes",
    "remember_theme",
    "remembered_theme",
    "themes_dir",
]

DEFAULT_THEME = "dark"
_SETTINGS = "tui.json"
_VARIABLE = re.compile(r"^\$([a-z][a-z0-9-]*)\s*:\s*([^;]+);", re.MULTILINE)
_COLOURS = {
    "primary",
    "secondary",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "warning",
    "error",
    "success",
    "boost",
}


def themes_dir() -> Path:
    """``themes/`` at the top of the source tree.

    TODO: themes live outside the Python packages, so a wheel would not
    carry them; moving them to package data needs a change in
    pyproject.toml's package list, which the packaging work owns.
    """
    return Path(__file__).resolve().parents[2] / "themes"


@dataclass(frozen=True)
class ThemeFile:
    name: str
    path: Path

    def rules(self) -> str:
        """The file's CSS rules, without its colour lines.

        Textual would treat ``$name: value;`` lines as variables of every
        stylesheet, clashing with the theme's own; blank lines stand in
        for them so that errors keep their line numbers.
        """
        return _VARIABLE.sub("", self.path.read_text())

    def theme(self) -> Theme:
        """The Textual theme the file's variables describe."""
        text = self.path.read_text()
        colours: dict[str, str] = {}
        variables: dict[str, str] = {}
        for name, value in _VARIABLE.findall(text):
            target = colours if name in _COLOURS else variables
            target[name] = value.strip()
        if "primary" not in colours:
            raise InvalidArgument("theme", self.name, f"{self.path} sets no $primary")
        background = Color.parse(colours.get("background", "#000000"))
        theme = Theme(
            name=self.name,
            primary=colours.pop("primary"),
            dark=background.brightness < 0.5,
            variables=variables,
        )
        for name, value in colours.items():
            setattr(theme, name, value)
        return theme


def find_themes(directory: Path | None = None) -> dict[str, ThemeFile]:
    """Every theme in ``directory`` (``themes/``), by name, default first."""
    directory = directory or themes_dir()
    found = {p.stem: ThemeFile(p.stem, p) for p in sorted(directory.glob("*.tcss"))}
    if not found:
        raise InvalidArgument("themes", str(directory), "no .tcss theme files there")
    ordered = dict.fromkeys([DEFAULT_THEME] if DEFAULT_THEME in found else [])
    return {name: found[name] for name in [*ordered, *found]}


def remembered_theme(data_dir: str) -> str | None:
    """The theme chosen last time, if any (a damaged file is ignored)."""
    try:
        settings = json.loads((Path(data_dir) / _SETTINGS).read_text())
    except (OSError, ValueError):
        return None
    theme = settings.get("theme") if isinstance(settings, dict) else None
    return theme if isinstance(theme, str) else None


def remember_theme(data_dir: str, name: str) -> None:
    """Keep ``name`` for the next start; written whole, then renamed."""
    path = Path(data_dir) / _SETTINGS
    temporary = path.with_name(f".{_SETTINGS}.{os.getpid()}")
    temporary.write_text(json.dumps({"theme": name}) + "\n")
    temporary.replace(path)
