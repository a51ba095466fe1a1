"""The core's errors as docker's HTTP replies: one place, one table.

docker answers ``{"message": ...}`` with 400 for bad input, 404 for a
missing object, 409 for a conflict with its state or name, 500 when it
failed itself. Clients read the words as well as the status: the docker SDK
raises ``ImageNotFound`` only when a 404 says ``No such image``, and the
CLI pulls and retries on it, so a missing object is worded as docker words
it (``No such container: web``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from servin_core import log
from servin_core.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServinError,
    Unavailable,
)

__all__ = ["STATUS", "error_middleware", "error_reply", "message_of"]

STATUS: dict[type[ServinError], int] = {
    NotFound: 404,
    AlreadyExists: 409,
    InvalidArgument: 400,
    Conflict: 409,
    PermissionDenied: 401,
    Unavailable: 500,
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def message_of(error: ServinError) -> str:
    """docker's wording: ``No such image: busybox:latest`` for a missing
    object, else the core's own sentence naming the object and the reason."""
    if isinstance(error, NotFound) and error.reason.startswith("No such"):
        return f"{error.reason}: {error.ident}"
    return str(error)


def status_of(error: ServinError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def error_reply(status: int, message: str) -> web.Response:
    # Exactly application/json: docker's client decodes the message only
    # for that type (with a charset it prints the raw body).
    body = json.dumps({"message": message}).encode()
    return web.Response(body=body, status=status, content_type="application/json")


@web.middleware
async def error_middleware(
    request: web.Request, handler: Handler
) -> web.StreamResponse:
    """Every failure of a handler becomes ``{"message": ...}``; a failure
    after a streamed reply began can only end the stream."""
    try:
        return await handler(request)
    except ServinError as e:
        log.api.info("%s %s: %s", request.method, request.path, e)
        return error_reply(status_of(e), message_of(e))
    except json.JSONDecodeError as e:
        return error_reply(400, f"request body: not valid JSON: {e}")
    except web.HTTPException as e:
        if e.status < 400:
            raise
        text = "page not found" if e.status == 404 else (e.text or e.reason)
        return error_reply(e.status, text.removeprefix(f"{e.status}: "))
    except ConnectionError:
        # The client went away mid-stream: nobody is left to answer.
        log.api.debug("%s %s: the client went away", request.method, request.path)
        return web.Response()
    except OSError as e:
        # A file the request named (an archive path, a tarball) or the
        # state directory itself: the message names the path.
        log.api.warning("%s %s: %s", request.method, request.path, e)
        return error_reply(500, str(e))
