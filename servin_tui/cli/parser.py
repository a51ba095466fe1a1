"""The command-line parser, with each subcommand's parser built only when
it is chosen.

Configuring the parsers of all forty-odd commands imports every command
module and costs more than many commands take to run. Here the top-level
parser knows only the names and help lines of the catalog; argparse's
subcommand action calls back once it has read the command's name, and only
then is that command's module imported and its parser configured. ``--help``
lists every command from the catalog alone; ``--version`` reads the package
metadata only when asked.

This leans on argparse's subparsers action (``_SubParsersAction`` and its
choice entries for help), which the standard library has kept stable for
many releases; tests/servin_tui/test_cli_catalog.py exercises it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from servin_tui.cli import catalog
from servin_tui.cli.command import Command

__all__ = ["LOG_LEVELS", "build_parser"]

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")

_Factory = Callable[[], Command]


if TYPE_CHECKING:
    _SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]
else:  # not subscriptable at run time
    _SubParsers = argparse._SubParsersAction


class _LazyCommands(_SubParsers):
    """Subcommands whose parsers are configured on first use."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._factories: dict[str, tuple[tuple[str, ...], str, _Factory]] = {}
        self._group: catalog.Group = "top"

    def add_lazy(self, names: Sequence[str], help: str, factory: _Factory) -> None:
        first, *aliases = names
        choice = self._ChoicesPseudoAction(first, aliases, help)
        self._choices_actions.append(choice)
        for name in names:
            self._factories[name] = (tuple(names), help, factory)
            # argparse checks the command's name against this map before
            # calling us; the real parser replaces the placeholder then.
            self._name_parser_map[name] = _PLACEHOLDER

    def add_group(
        self,
        name: str,
        help: str,
        group: catalog.Group,
        entries: Sequence[catalog.Entry],
    ) -> None:
        """A command with commands of its own (``container``, ``image``)."""

        def configure(parser: argparse.ArgumentParser) -> None:
            sub = parser.add_subparsers(
                dest=f"{name}_command",
                metavar="COMMAND",
                required=True,
                action=_LazyCommands,
            )
            assert isinstance(sub, _LazyCommands)
            sub.add_catalog(group, entries)

        # A group has no body: argparse requires one of its commands.
        self._factories[name] = ((name,), help, lambda: _group_command(configure))
        self._choices_actions.append(self._ChoicesPseudoAction(name, [], help))
        self._name_parser_map[name] = _PLACEHOLDER

    def add_catalog(
        self, group: catalog.Group, entries: Sequence[catalog.Entry]
    ) -> None:
        self._group = group
        for entry in entries:
            self.add_lazy(entry.names, entry.help, _loader(entry, group))

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        assert isinstance(values, list)
        self._materialize(values[0], values[1:])
        super().__call__(parser, namespace, values, option_string)

    def _materialize(self, name: str, rest: Sequence[str]) -> None:
        if self._name_parser_map.get(name) is not _PLACEHOLDER:
            return
        names, help, factory = self._factories[name]
        command = factory()
        real = self._parser_class(
            prog=f"{self._prog_prefix} {names[0]}", description=help
        )
        command.configure(real)
        if command.run is not _NO_RUN:
            real.set_defaults(run=command.run)
        for each in names:
            self._name_parser_map[each] = real

        # A group's own commands: argparse checks the name before calling
        # the group's action, so an uncatalogued one is looked up now.
        for action in real._actions:
            if isinstance(action, _LazyCommands):
                action.check_unknown(next((w for w in rest if w[:1] != "-"), ""))

    def check_unknown(self, name: str) -> None:
        """Make ``name`` known if a module registers it but the catalog
        does not list it yet."""
        if not name or name in self._name_parser_map or name.startswith("-"):
            return
        found = catalog.discover(name, self._group)
        if found is not None:
            names, command = found
            self.add_lazy(names, command.help, lambda: command)


async def _no_run(*_: Any) -> int:  # pragma: no cover - never called
    return 2


_NO_RUN = _no_run
_PLACEHOLDER = argparse.ArgumentParser(add_help=False)


def _loader(entry: catalog.Entry, group: catalog.Group) -> _Factory:
    return lambda: catalog.load(entry, group)


def _group_command(configure: Callable[[argparse.ArgumentParser], None]) -> Command:
    return Command(None, (), "", configure, _NO_RUN)


class _Version(argparse.Action):
    """``--version``: the package metadata is read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: Any) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show the version and exit",
        )

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        print(_version())
        parser.exit()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"servin-tui {version('servin')}"
    except PackageNotFoundError:
        return "servin-tui (not installed)"


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser of the whole command line. ``argv``, if given, is the
    command line about to be parsed: a command it names that the catalog
    does not list yet is looked up in the modules."""
    parser = argparse.ArgumentParser(
        prog="servin-tui",
        description=(
            "Servin runs Linux containers and manages them from the keyboard. "
            "The subcommands follow docker's syntax."
        ),
    )
    parser.add_argument(
        "--root",
        type=Path,
        metavar="DIR",
        help="keep all state (data, run directory, sockets) under DIR",
    )
    parser.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (TOML)"
    )
    parser.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="warning",
        metavar="LEVEL",
        help=f"log to stderr from this level on: {', '.join(LOG_LEVELS)}",
    )
    parser.add_argument(
        "--theme",
        metavar="NAME",
        help="with no command: the application's theme (dark, light, high-contrast)",
    )
    parser.add_argument(
        "--headless",
        action="store_true",
        help="run as a daemon serving the Engine API and the CRI on the run"
        " directory's sockets (see servin-tui --headless --help)",
    )
    parser.add_argument("--version", action=_Version)

    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", action=_LazyCommands
    )
    assert isinstance(commands, _LazyCommands)
    commands.add_catalog("top", catalog.TOP_LEVEL)
    commands.add_group(
        "container",
        "manage containers (ls, run, rm, prune, ...)",
        "container",
        catalog.CONTAINER_GROUP,
    )
    commands.add_group(
        "image", "manage images (ls, pull, rm, ...)", "image", catalog.IMAGE_GROUP
    )
    commands.add_group(
        "volume",
        "manage volumes (create, ls, rm, prune, ...)",
        "volume",
        catalog.VOLUME_GROUP,
    )
    commands.add_group(
        "network",
        "manage networks (create, ls, connect, rm, ...)",
        "network",
        catalog.NETWORK_GROUP,
    )
    commands.check_unknown(_command_word(argv))
    return parser


def _command_word(argv: Sequence[str]) -> str:
    """The word of ``argv`` that names the command, as far as a quick look
    can tell; a wrong guess (an abbreviated option's value) only costs the
    look into the modules that :meth:`_LazyCommands.check_unknown` makes."""
    words = iter(argv)
    for word in words:
        if word in _VALUED_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return ""


_VALUED_OPTIONS = ("--root", "--config", "--log-level", "--theme")
