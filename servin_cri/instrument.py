"""The one layer every CRI call passes through: logging and error codes.

Each RPC's entry, exit, duration and failure are logged here, and nowhere
else in servin_cri, so that a kubelet's traffic can be followed in one
place. The core's error kinds become gRPC status codes here too: handlers
raise :mod:`servin_core.errors` and never pick a code themselves (except
UNIMPLEMENTED, which names the RPC, and aborts that carry their own code).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

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

__all__ = ["Instrument", "NotSupported", "code_of"]


class NotSupported(ServinError):
    """A part of the interface Servin does not offer yet. kubelet and
    critest read UNIMPLEMENTED as the runtime's lack of the feature."""


_CODES: tuple[tuple[type[ServinError], grpc.StatusCode], ...] = (
    (NotSupported, grpc.StatusCode.UNIMPLEMENTED),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (Conflict, grpc.StatusCode.FAILED_PRECONDITION),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
)

# Fields that name the object a request is about, most specific first.
_ID_FIELDS = ("container_id", "pod_sandbox_id")

Unary = Callable[[Any, Any], Awaitable[Any]]
Streaming = Callable[[Any, Any], AsyncIterator[Any]]


def code_of(error: ServinError) -> grpc.StatusCode:
    """The gRPC code for one of the core's errors."""
    for kind, code in _CODES:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.UNKNOWN


def _subject(request: Any) -> str:
    """The ID a request is about, for the log line's prefix."""
    for name in _ID_FIELDS:
        value = getattr(request, name, "")
        if isinstance(value, str) and value:
            return value
    image = getattr(request, "image", None)
    reference = getattr(image, "image", "")
    return reference if isinstance(reference, str) else ""


class _Call:
    """One RPC in flight: its logger and its clock."""

    def __init__(self, method: str, request: Any) -> None:
        self.name = method.rsplit("/", 1)[-1]
        subject = _subject(request)
        self.log = log.for_object(log.cri, "rpc", f"{self.name} {subject}".strip())
        self.started = time.monotonic()
        self.log.debug("start")

    def elapsed_ms(self) -> float:
        return (time.monotonic() - self.started) * 1000

    async def fail(self, context: Any, error: BaseException) -> None:
        """Log ``error`` and end the call with its code (never returns)."""
        if isinstance(error, ServinError | TimeoutError):
            code = (
                code_of(error)
                if isinstance(error, ServinError)
                else grpc.StatusCode.DEADLINE_EXCEEDED
            )
            self.log.info("%s after %.1f ms: %s", code.name, self.elapsed_ms(), error)
            await context.abort(code, str(error))
        self.log.error("failed after %.1f ms", self.elapsed_ms(), exc_info=error)
        await context.abort(
            grpc.StatusCode.UNKNOWN, f"{self.name}: {type(error).__name__}: {error}"
        )

    def aborted(self, context: Any) -> None:
        # The handler ended the call itself (UNIMPLEMENTED, or a code it
        # chose): the code is on the context already.
        code = context.code()
        self.log.info(
            "%s after %.1f ms: %s",
            getattr(code, "name", code),
            self.elapsed_ms(),
            context.details(),
        )


def _wrap_unary(method: str, behaviour: Unary) -> Unary:
    async def call(request: Any, context: Any) -> Any:
        current = _Call(method, request)
        try:
            response = await behaviour(request, context)
        except grpc.aio.AbortError:
            current.aborted(context)
            raise
        except Exception as e:
            await current.fail(context, e)
        current.log.debug("done in %.1f ms", current.elapsed_ms())
        return response

    return call


def _wrap_stream(method: str, behaviour: Streaming) -> Streaming:
    async def call(request: Any, context: Any) -> AsyncIterator[Any]:
        current = _Call(method, request)
        sent = 0
        try:
            async for response in behaviour(request, context):
                sent += 1
                yield response
        except grpc.aio.AbortError:
            current.aborted(context)
            raise
        except Exception as e:
            await current.fail(context, e)
        current.log.debug("done in %.1f ms, %d messages", current.elapsed_ms(), sent)

    return call


class Instrument(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    """Wraps every handler of the server in the logging and code mapping."""

    async def intercept_service(
        self,
        continuation: Callable[[Any], Awaitable[Any]],
        handler_call_details: Any,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                _wrap_unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        # CRI has no client-streaming RPC; anything else passes untouched.
        return handler
