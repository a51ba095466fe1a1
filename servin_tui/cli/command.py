"""What a command is, and the session it runs in.

A command module lists its commands as :class:`Command` values; ``main``
registers each under its top-level name and under ``image``. A command's
``run`` gets the :class:`Session`, which opens the core only when the
command first asks for it, so ``--help`` and usage errors never touch the
state directory.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

from servin_core._dataclass import dataclass
from servin_core.errors import ServinError

if TYPE_CHECKING:
    from servin_core.config import Config
    from servin_core.core import Core

__all__ = ["Command", "Runner", "Session"]


class Session:
    """One invocation's configuration, streams and (lazily) its core."""

    def __init__(
        self,
        config: Config,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
    ) -> None:
        self.config = config
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr
        self._core: Core | None = None

    def core(self) -> Core:
        """The core, opened on first use (it creates the state directories)."""
        if self._core is None:
            from servin_core.core import Core

            self._core = Core.open(self.config)
        return self._core

    def close(self) -> None:
        if self._core is not None:
            self._core.close()
            self._core = None

    def out(self, line: str = "") -> None:
        self.stdout.write(line + "\n")

    def warn(self, line: str) -> None:
        self.stderr.write(line + "\n")

    def binary_stdin(self) -> BinaryIO | None:
        """Standard input as bytes, or None when the process has none."""
        return getattr(self.stdin, "buffer", None) if self.stdin else None

    def stdin_is_terminal(self) -> bool:
        return bool(self.stdin) and self.stdin.isatty()

    def stdout_is_terminal(self) -> bool:
        return self.stdout.isatty()

    async def each(
        self, names: Iterable[str], act: Callable[[str], Awaitable[object]]
    ) -> int:
        """Run ``act`` on every name, as docker's commands on several objects
        do: print each name done (or what ``act`` returned, when a string),
        an error line for each that failed, and go on; the exit status."""
        status = 0
        for name in names:
            try:
                result = await act(name)
            except ServinError as e:
                self.stdout.flush()
                self.warn(f"Error: {e}")
                status = 1
                continue
            self.out(result if isinstance(result, str) else name)
            self.stdout.flush()
        return status


Runner = Callable[[Session, argparse.Namespace], Coroutine[Any, Any, int] | int]
"""A command's body: a coroutine that ``main`` runs in an event loop, or,
for a command that can do its work before it needs one (``run`` starts its
container first), that work done and its status, or a coroutine for the
rest."""
Configure = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True, eq=False)
class Command:
    """A subcommand: where it is registered, its arguments and its body."""

    name: str | None
    """Top-level name (``images``), or None for ``image``-only commands."""
    image_names: tuple[str, ...]
    """Names under ``image`` (``ls``, ``list``); empty for none."""
    help: str
    configure: Configure
    run: Runner
