"""The few kinds of error the core raises.

Every error names the object it is about (its kind and ID) and says why. The
edges turn them into status codes in one place each: the CLI into exit codes,
the Engine API into HTTP statuses, the CRI into gRPC codes. Nothing deeper than
an edge looks at codes.

    ServinError
    ├── NotFound            the object does not exist
    ├── AlreadyExists       an object with that name or ID exists
    ├── InvalidArgument     the request or the input data is wrong
    ├── Conflict            the object's state forbids the operation
    ├── PermissionDenied    credentials were refused or are missing
    └── Unavailable         a peer (registry, runtime, kernel feature) failed
"""

from __future__ import annotations

__all__ = [
    "AlreadyExists",
    "Conflict",
    "InvalidArgument",
    "NotFound",
    "PermissionDenied",
    "ServinError",
    "Unavailable",
]


class ServinError(Exception):
    """Base of the core's errors: carries the object's kind and ID."""

    def __init__(self, kind: str, ident: str, reason: str) -> None:
        self.kind = kind
        self.ident = ident
        self.reason = reason
        super().__init__(f"{kind} {ident}: {reason}" if ident else f"{kind}: {reason}")


class NotFound(ServinError):
    """The object does not exist."""


class AlreadyExists(ServinError):
    """An object with that name or ID already exists."""


class InvalidArgument(ServinError):
    """The request, or data given to the core, is malformed or hostile."""


class Conflict(ServinError):
    """The object's current state forbids the operation."""


class PermissionDenied(ServinError):
    """A peer refused the credentials, or none were given where needed."""


class Unavailable(ServinError):
    """A peer or a kernel feature failed or could not be reached."""
