"""The status an exec or attach ends with, as kubelet's clients read it
from the error stream: a Kubernetes ``Status`` object in JSON.

A command that exits 0 is ``Success``. Another exit code is a
``Failure`` with reason ``NonZeroExitCode`` and the code as the message of
an ``ExitCode`` cause (kubectl exits with it). Anything else that went
wrong is a ``Failure`` whose message the client shows.
"""

from __future__ import annotations

from typing import Any

__all__ = ["exit_status", "failure"]


def exit_status(code: int) -> dict[str, Any]:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def failure(message: str) -> dict[str, Any]:
    return {
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "InternalError",
        "code": 500,
    }
