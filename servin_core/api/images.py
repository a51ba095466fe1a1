"""Image endpoints: list, inspect, history, tag, remove, prune, pull, push,
save and load, and search (which Servin does not do).

Pulls and pushes answer with docker's JSON progress stream, one object per
line (``{"status": "Downloading", "progressDetail": {...}, "id": ...}``);
a failure once the stream has begun is an ``error`` object in it, as
docker sends it. Credentials come with each request (``X-Registry-Auth``)
and are used for that operation only, before any stored login.

Image names may hold slashes (``/images/registry:5000/team/app:1/json``),
so those routes match the name greedily.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web

from servin_core import log
from servin_core.api import params
from servin_core.api.app import Routes, core_of
from servin_core.api.bridge import from_thread
from servin_core.api.shapes import go_time, image_summary, rfc3339_seconds
from servin_core.errors import InvalidArgument, ServinError
from servin_core.images.inspect import familiar
from servin_core.images.progress import ProgressEvent
from servin_core.images.reference import parse_reference

if TYPE_CHECKING:
    from servin_core.core import Core
    from servin_core.registry.auth import Credentials

__all__ = ["check_login", "register"]

_STATUS = {
    "waiting": "Waiting",
    "downloading": "Downloading",
    "verifying": "Verifying Checksum",
    "extracting": "Extracting",
    "complete": "Pull complete",
    "exists": "Already exists",
    "pushing": "Pushing",
    "mounted": "Mounted from another repository",
    "pushed": "Pushed",
}


def _name(request: web.Request) -> str:
    return request.match_info["name"]


async def list_(request: web.Request) -> web.Response:
    core = core_of(request)
    wanted = params.filters_of(request)
    images = []
    for image in core.images.list():
        if wanted.get("dangling"):
            dangling = wanted["dangling"][0].lower() in ("true", "1")
            if bool(image.tags) == dangling:
                continue
        references = wanted.get("reference", [])
        if references and not any(
            _reference_matches(tag, r) for tag in image.tags for r in references
        ):
            continue
        images.append(image_summary(image))
    images.sort(key=lambda summary: summary["Created"], reverse=True)
    return web.json_response(images)


def _reference_matches(tag: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    shown = familiar(tag)
    if ":" not in pattern.rsplit("/", 1)[-1]:
        shown = shown.rsplit(":", 1)[0]
    return fnmatchcase(shown, pattern) or fnmatchcase(tag, pattern)


async def inspect(request: web.Request) -> web.Response:
    from servin_core.images.inspect import inspect as inspect_image

    core = core_of(request)
    image = core.images.resolve(_name(request))
    shown = await asyncio.to_thread(inspect_image, core, image)
    # docker's clients parse these as times: an empty string fails them.
    if not shown.get("Created"):
        shown["Created"] = go_time(image.added_at)
    shown["Metadata"] = {"LastTagTime": go_time(None)}
    return web.json_response(shown)


async def history(request: web.Request) -> web.Response:
    from servin_core.images.inspect import history as history_of

    core = core_of(request)
    image = core.images.resolve(_name(request))
    rows = await asyncio.to_thread(history_of, core, image)
    for row in rows:
        row["Created"] = rfc3339_seconds(row["Created"]) or 0
        top = row["Id"] != "<missing>"
        row["Tags"] = [familiar(t) for t in image.tags] if top else None
    return web.json_response(rows)


async def tag(request: web.Request) -> web.Response:
    core = core_of(request)
    image = core.images.resolve(_name(request))
    repo = params.text(request, "repo")
    if not repo:
        raise InvalidArgument("parameter", "repo", "a repository is required")
    name = f"{repo}:{params.text(request, 'tag') or 'latest'}"
    await asyncio.to_thread(core.images.tag, image, parse_reference(name))
    return web.Response(status=201)


async def remove(request: web.Request) -> web.Response:
    core = core_of(request)
    force = params.flag(request, "force")
    report = await asyncio.to_thread(core.images.remove, _name(request), force=force)
    return web.json_response(
        [
            {action: familiar(what) if action == "Untagged" else what}
            for action, what in report
        ]
    )


async def prune(request: web.Request) -> web.Response:
    from servin_core.filters import filter_flag, prune_filter
    from servin_core.images.prune import prune as prune_images

    wanted = params.filters_of(request)
    only = prune_filter(wanted, "image prune", extra={"dangling"})
    every = not filter_flag(wanted, "dangling", True)
    report = await asyncio.to_thread(
        prune_images, core_of(request), all=every, only=only
    )
    return web.json_response(
        {
            "ImagesDeleted": [{action: what} for action, what in report.deleted]
            or None,
            "SpaceReclaimed": report.reclaimed,
        }
    )


def _given(request: web.Request, reference: str) -> dict[str, Credentials]:
    """The request's ``X-Registry-Auth`` by registry, if it has any."""
    from servin_core.registry.auth import Credentials
    from servin_core.registry.credentials import normalize_server

    auth = params.registry_auth(request)
    username, password = auth.get("username"), auth.get("password")
    if not (isinstance(username, str) and username and isinstance(password, str)):
        return {}
    server = auth.get("serveraddress") or parse_reference(reference).domain
    return {normalize_server(str(server)): Credentials(username, password)}


@contextlib.contextmanager
def _credentials(request: web.Request, reference: str) -> Iterator[None]:
    """The request's ``X-Registry-Auth`` for this operation, if it has any."""
    from servin_core.registry.auth import Credentials
    from servin_core.registry.credentials import given

    auth = params.registry_auth(request)
    username, password = auth.get("username"), auth.get("password")
    if not (isinstance(username, str) and username and isinstance(password, str)):
        yield
        return
    server = auth.get("serveraddress") or parse_reference(reference).domain
    with given(str(server), Credentials(username, password)):
        yield


def _progress_line(event: ProgressEvent) -> dict[str, Any] | None:
    if event.action in ("resolving", "failed"):
        return None
    line: dict[str, Any] = {
        "status": _STATUS.get(event.action, event.action),
        "progressDetail": {},
        "id": event.layer.removeprefix("sha256:")[:12],
    }
    if event.action in ("downloading", "extracting", "pushing") and event.total:
        line["progressDetail"] = {"current": event.current, "total": event.total}
    return line


async def _stream(
    request: web.Request,
    opening: list[dict[str, Any]],
    work: Callable[[Callable[[ProgressEvent], None]], Awaitable[list[dict[str, Any]]]],
) -> web.StreamResponse:
    """Run ``work`` with a progress callback, streaming docker's JSON lines:
    ``opening``, each progress event, then what ``work`` returns."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()

    def progress(event: ProgressEvent) -> None:
        line = _progress_line(event)
        if line is not None:
            loop.call_soon_threadsafe(queue.put_nowait, line)

    async def run() -> list[dict[str, Any]]:
        try:
            return await work(progress)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, None)

    task = asyncio.ensure_future(run())
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for line in opening:
        await response.write(json.dumps(line).encode() + b"\r\n")
    while (step := await queue.get()) is not None:
        await response.write(json.dumps(step).encode() + b"\r\n")
    try:
        closing = await task
    except ServinError as e:
        from servin_core.api.errors import message_of

        log.api.info("%s %s: %s", request.method, request.path, e)
        message = message_of(e)
        closing = [{"errorDetail": {"message": message}, "error": message}]
    for line in closing:
        await response.write(json.dumps(line).encode() + b"\r\n")
    await response.write_eof()
    return response


async def create(request: web.Request) -> web.StreamResponse:
    from servin_core.errors import NotFound
    from servin_core.images.pull import pull

    core = core_of(request)
    source = params.text(request, "fromImage")
    if not source:
        if params.text(request, "fromSrc"):
            raise InvalidArgument(
                "parameter", "fromSrc", "importing through the API is not supported"
            )
        raise InvalidArgument("parameter", "fromImage", "an image is required")
    tag_text = params.text(request, "tag")
    if tag_text.startswith("sha256:"):
        reference = f"{source}@{tag_text}"
    elif tag_text:
        reference = f"{source}:{tag_text}"
    else:
        reference = source
    ref = parse_reference(reference)
    platform = params.text(request, "platform") or None
    try:
        before: str | None = core.images.resolve_id(str(ref))
    except NotFound:
        before = None

    async def work(progress: Callable[[ProgressEvent], None]) -> list[dict[str, Any]]:
        image = await pull(
            core,
            str(ref),
            platform=platform,
            progress=progress,
            credentials=_given(request, str(ref)),
        )
        verdict = (
            "Image is up to date for"
            if before == image.id
            else "Downloaded newer image for"
        )
        digest = next(iter(image.repo_digests), "").rpartition("@")[2]
        return [
            {"status": f"Digest: {digest}"},
            {"status": f"Status: {verdict} {ref.familiar()}"},
        ]

    opening = [
        {
            "status": f"Pulling from {ref.familiar_repository()}",
            "id": ref.tag or ref.digest or "latest",
        }
    ]
    return await _stream(request, opening, work)


async def push(request: web.Request) -> web.StreamResponse:
    from servin_core.images.push import push as push_image

    core = core_of(request)
    name = _name(request)
    tag_text = params.text(request, "tag")
    reference = f"{name}:{tag_text}" if tag_text else name
    core.images.resolve(reference)
    ref = parse_reference(reference)

    async def work(progress: Callable[[ProgressEvent], None]) -> list[dict[str, Any]]:
        with _credentials(request, str(ref)):
            digest = await push_image(core, str(ref), progress=progress)
        size = core.content.size(digest) if core.content.exists(digest) else 0
        # Two messages, as docker sends them: the client shows the first and
        # hands the second's aux to its callback.
        return [
            {"status": f"{ref.tag or 'latest'}: digest: {digest} size: {size}"},
            {
                "progressDetail": {},
                "aux": {"Tag": ref.tag or "latest", "Digest": digest, "Size": size},
            },
        ]

    opening = [{"status": f"The push refers to repository [{ref.repository}]"}]
    return await _stream(request, opening, work)


async def _save(request: web.Request, names: list[str]) -> web.StreamResponse:
    from servin_core.images.archive import save

    core = core_of(request)
    if not names:
        raise InvalidArgument("parameter", "names", "name at least one image")
    # Resolve before the headers go: a missing image is a 404, not a
    # broken tar.
    for name in names:
        _check_saved(core, name)
    response = web.StreamResponse(headers={"Content-Type": "application/x-tar"})
    await response.prepare(request)
    await from_thread(lambda out: save(core, names, out), response.write)
    await response.write_eof()
    return response


def _check_saved(core: Core, name: str) -> None:
    """NotFound unless ``name`` is an image, or a repository (all its tags
    are saved) with at least one tag here."""
    from servin_core.errors import NotFound

    try:
        core.images.resolve(name)
    except NotFound:
        repository = parse_reference(name, default_tag=False).repository
        tags = (t for image in core.images.list() for t in image.tags)
        if not any(parse_reference(t).repository == repository for t in tags):
            raise


async def get_one(request: web.Request) -> web.StreamResponse:
    return await _save(request, [_name(request)])


async def get_many(request: web.Request) -> web.StreamResponse:
    return await _save(request, request.query.getall("names", []))


async def load(request: web.Request) -> web.StreamResponse:
    from servin_core.images.archive import load as load_images

    core = core_of(request)
    spool_dir = core.config.data_dir / "tmp"
    spool_dir.mkdir(exist_ok=True, mode=0o700)
    fd, path = tempfile.mkstemp(dir=spool_dir, prefix="load-")
    try:
        with os.fdopen(fd, "wb") as spool:
            async for chunk in request.content.iter_chunked(1 << 20):
                await asyncio.to_thread(spool.write, chunk)
        with open(path, "rb") as source:
            loaded = await load_images(core, source)
    finally:
        os.unlink(path)
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)
    for name in loaded:
        kind = "Loaded image ID" if name.startswith("sha256:") else "Loaded image"
        line = {"stream": f"{kind}: {name}\n"}
        await response.write(json.dumps(line).encode() + b"\r\n")
    await response.write_eof()
    return response


async def search(request: web.Request) -> web.Response:
    from servin_core.api.errors import error_reply

    return error_reply(
        501,
        "search is not supported: Servin does not search registries;"
        " pull the image by its name",
    )


async def check_login(core: Core, server: str, username: str, password: str) -> None:
    """PermissionDenied unless ``server`` accepts the credentials."""
    from servin_core.registry.auth import Credentials
    from servin_core.registry.client import RegistryClient

    async with RegistryClient(core.config) as client:
        await client.check_credentials(server, Credentials(username, password))


def register(app: web.Application, routes: Routes) -> None:
    routes.add("GET", "/images/json", list_)
    routes.add("POST", "/images/create", create)
    routes.add("POST", "/images/prune", prune)
    routes.add("POST", "/images/load", load)
    routes.add("GET", "/images/get", get_many)
    routes.add("GET", "/images/search", search)
    routes.add("GET", "/images/{name:.+}/json", inspect)
    routes.add("GET", "/images/{name:.+}/history", history)
    routes.add("GET", "/images/{name:.+}/get", get_one)
    routes.add("POST", "/images/{name:.+}/tag", tag)
    routes.add("POST", "/images/{name:.+}/push", push)
    routes.add("DELETE", "/images/{name:.+}", remove)
