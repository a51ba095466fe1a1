"""Shell scripts that test containers run with busybox's sh, shared by the
suites that drive the same behaviour through different clients."""

from __future__ import annotations

__all__ = ["EXITS_7_ON_USR1"]

EXITS_7_ON_USR1 = (
    'trap "echo got TERM" TERM; trap "exit 7" USR1; echo ready;'
    " while :; do sleep 0.1; done"
)
"""Says ``ready``, ignores SIGTERM (saying ``got TERM``) and exits 7 on
SIGUSR1: a stop that sends SIGUSR1 ends it with status 7 at once, where
SIGTERM and then SIGKILL after the timeout would end it with 137."""
