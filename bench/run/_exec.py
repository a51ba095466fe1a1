"""The second half of the issue's benchmark: ``exec true`` into a running
container, Servin against ``podman exec``. Not measured yet.

Servin has no ``exec`` command so far. Until it has, the benchmark says so
in one line and carries on: a missing command is not a failed run. When
``servin-tui exec`` exists, :func:`exec_status` says that too, so the gap
cannot go unnoticed.

TODO: time ``exec`` once Servin has it (blocked on the exec command, issue
3). The shape: start ``sleep 3600`` detached in each store before the
rounds (``servin-tui run -d``, ``podman run -d`` with the same flags as
:class:`_tools.Podman`), then in every round time ``servin-tui exec ID
true`` and ``podman exec ID true`` beside the run rounds, report them as
tools ``servin-exec`` and ``podman-exec`` with the ratio
``servin-exec/podman-exec``, and remove both containers afterwards.
"""

from __future__ import annotations

import subprocess

from _tools import servin_cli

__all__ = ["exec_status"]


def exec_status() -> str:
    """The line the report prints about the exec benchmark."""
    result = subprocess.run(
        [str(servin_cli()), "exec", "--help"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )
    if result.returncode != 0:
        return (
            "exec true vs podman exec: skipped, servin-tui has no exec command"
            " yet (not a failure)"
        )
    return (
        "exec true vs podman exec: skipped, servin-tui has exec now but this"
        " benchmark does not time it yet (see bench/run/_exec.py)"
    )
