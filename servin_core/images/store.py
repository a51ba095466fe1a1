"""The image store: which images exist, their names and their layers.

An image's ID is the digest of its config. It may have many tags
(``docker.io/library/busybox:latest``) and repository digests
(``docker.io/library/busybox@sha256:...``, the manifest or index it was pulled
by). Its bytes live in the content store and its layers in snapshots; this
module keeps the rows that tie them together.
"""

from __future__ import annotations

import builtins
import re
import sqlite3
import time
from collections.abc import Sequence

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core.errors import Conflict, InvalidArgument, NotFound
from servin_core.events import EventLog
from servin_core.images.reference import Reference, parse_reference
from servin_core.state.db import Database

__all__ = ["Image", "ImageStore", "Layer"]

_FULL_ID = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
_SHORT_ID = re.compile(r"(?:sha256:)?([0-9a-f]{1,63})")


@dataclass(frozen=True, slots=True)
class Layer:
    digest: str
    media_type: str
    size: int
    diff_id: str
    chain_id: str


@dataclass(frozen=True, slots=True)
class Image:
    id: str
    manifest_digest: str
    manifest_media_type: str
    created: str | None
    os: str
    architecture: str
    variant: str | None
    size: int
    added_at: float
    tags: tuple[str, ...]
    repo_digests: tuple[str, ...]
    layers: tuple[Layer, ...]

    @property
    def short_id(self) -> str:
        return self.id.removeprefix("sha256:")[:12]

    @property
    def top_chain_id(self) -> str | None:
        return self.layers[-1].chain_id if self.layers else None


class ImageStore:
    def __init__(self, db: Database, events: EventLog) -> None:
        self._db = db
        self._events = events

    # Reading

    def get(self, image_id: str) -> Image:
        with self._db.read() as conn:
            image = _load(conn, image_id)
        if image is None:
            raise NotFound("image", image_id, "No such image")
        return image

    def list(self) -> list[Image]:
        with self._db.read() as conn:
            ids = [row[0] for row in conn.execute("SELECT id FROM images")]
            images = [_load(conn, image_id) for image_id in ids]
        return [image for image in images if image is not None]

    def resolve(self, text: str) -> Image:
        """The image that ``text`` names, as docker resolves it: a full ID, a
        name with tag or digest, then a unique ID prefix."""
        image_id = self.resolve_id(text)
        return self.get(image_id)

    def resolve_id(self, text: str) -> str:
        full = _FULL_ID.fullmatch(text)
        if full:
            image_id = "sha256:" + full.group(1)
            if self._db.query_one("SELECT 1 FROM images WHERE id = ?", (image_id,)):
                return image_id
        try:
            ref = parse_reference(text)
        except InvalidArgument:
            ref = None
        if ref is not None:
            found = self._by_reference(ref)
            if found:
                return found
        short = _SHORT_ID.fullmatch(text)
        if short:
            rows = self._db.query(
                "SELECT id FROM images WHERE id LIKE ?",
                ("sha256:" + short.group(1) + "%",),
            )
            if len(rows) == 1:
                return str(rows[0]["id"])
            if len(rows) > 1:
                raise InvalidArgument("image", text, "ambiguous ID prefix")
        if ref is None:
            raise InvalidArgument("image", text, "not a valid reference or ID")
        raise NotFound("image", text, "No such image")

    def _by_reference(self, ref: Reference) -> str | None:
        if ref.digest:
            row = self._db.query_one(
                "SELECT image_id FROM repo_digests WHERE repository = ? AND digest = ?",
                (ref.repository, ref.digest),
            )
            if row is None:
                # Any image of that repository whose own manifest has the digest.
                row = self._db.query_one(
                    "SELECT i.id AS image_id FROM images i JOIN repo_digests r"
                    " ON r.image_id = i.id WHERE r.repository = ?"
                    " AND i.manifest_digest = ?",
                    (ref.repository, ref.digest),
                )
        else:
            row = self._db.query_one(
                "SELECT image_id FROM tags WHERE name = ?", (str(ref),)
            )
        return str(row["image_id"]) if row else None

    def holders(self, image_id: str) -> builtins.list[tuple[str, str]]:
        rows = self._db.query(
            "SELECT holder_kind, holder_id FROM image_holds WHERE image_id = ?",
            (image_id,),
        )
        return [(row["holder_kind"], row["holder_id"]) for row in rows]

    def children_of_layers(self, image: Image) -> builtins.list[str]:
        """IDs of other images whose stack contains ``image``'s top layer."""
        if not image.layers:
            return []
        rows = self._db.query(
            "SELECT DISTINCT image_id FROM image_layers WHERE chain_id = ?"
            " AND image_id != ?",
            (image.layers[-1].chain_id, image.id),
        )
        return [row["image_id"] for row in rows]

    # Writing

    def add(
        self,
        conn: sqlite3.Connection,
        image: Image,
        *,
        extra_blobs: Sequence[str] = (),
    ) -> bool:
        """Insert ``image`` with its names in the transaction ``conn``.

        Returns whether the image is new. Names are added to an existing
        image; a tag that named another image moves to this one.
        """
        new = conn.execute("SELECT 1 FROM images WHERE id = ?", (image.id,)).fetchone()
        is_new = new is None
        if is_new:
            conn.execute(
                "INSERT INTO images (id, manifest_digest, manifest_media_type,"
                " created, os, architecture, variant, size, added_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    image.id,
                    image.manifest_digest,
                    image.manifest_media_type,
                    image.created,
                    image.os,
                    image.architecture,
                    image.variant,
                    image.size,
                    image.added_at,
                ),
            )
            conn.executemany(
                "INSERT INTO image_layers (image_id, position, digest, media_type,"
                " size, diff_id, chain_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        image.id,
                        i,
                        layer.digest,
                        layer.media_type,
                        layer.size,
                        layer.diff_id,
                        layer.chain_id,
                    )
                    for i, layer in enumerate(image.layers)
                ],
            )
        conn.executemany(
            "INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)",
            [(image.id, digest) for digest in extra_blobs],
        )
        for name in image.repo_digests:
            repository, digest = name.split("@", 1)
            conn.execute(
                "INSERT OR REPLACE INTO repo_digests (repository, digest, image_id)"
                " VALUES (?, ?, ?)",
                (repository, digest, image.id),
            )
        for tag in image.tags:
            self._set_tag(conn, tag, image.id)
        return is_new

    def tag(self, image: Image, ref: Reference) -> None:
        if ref.digest:
            raise InvalidArgument("reference", str(ref), "a tag cannot hold a digest")
        with self._db.write() as conn:
            exists = conn.execute("SELECT 1 FROM images WHERE id = ?", (image.id,))
            if exists.fetchone() is None:
                raise NotFound("image", image.id, "No such image")
            self._set_tag(conn, str(ref), image.id)

    def _set_tag(self, conn: sqlite3.Connection, name: str, image_id: str) -> None:
        previous = conn.execute(
            "SELECT image_id FROM tags WHERE name = ?", (name,)
        ).fetchone()
        if previous is not None and previous[0] == image_id:
            return
        conn.execute(
            "INSERT OR REPLACE INTO tags (name, image_id, tagged_at) VALUES (?, ?, ?)",
            (name, image_id, time.time()),
        )
        if previous is not None:
            self._events.record(conn, "image", "untag", previous[0], name=name)
        self._events.record(conn, "image", "tag", image_id, name=name)

    def remove(
        self, text: str, *, force: bool = False
    ) -> builtins.list[tuple[str, str]]:
        """Remove a name, or the image when it was its last name (or ``force``).

        Returns docker's report: ``("Untagged", name)`` and ``("Deleted", id)``.
        An image that a container holds is removed only with ``force``.
        """
        image_id = self.resolve_id(text)
        report: builtins.list[tuple[str, str]] = []
        with self._db.write() as conn:
            image = _load(conn, image_id)
            if image is None:
                raise NotFound("image", text, "No such image")
            names = list(image.tags)
            by_name = self._named_reference(text, image)
            if by_name is not None and len(names) > 1 and not force:
                # A name among several: only that name goes.
                self._untag(conn, image, by_name)
                return [("Untagged", by_name)]
            if by_name is None and len(names) > 1 and not force:
                raise Conflict(
                    "image",
                    image.short_id,
                    "is referenced in multiple repositories; use -f to remove it",
                )
            holders = self._holders(conn, image.id)
            if holders and not force:
                kind, holder = holders[0]
                raise Conflict(
                    "image",
                    image.short_id,
                    f"is in use by {kind} {holder[:12]}; stop and remove it, or use -f",
                )
            for name in names:
                self._untag(conn, image, name)
                report.append(("Untagged", name))
            for name in image.repo_digests:
                report.append(("Untagged", name))
            conn.execute("DELETE FROM images WHERE id = ?", (image.id,))
            self._events.record(conn, "image", "delete", image.id)
            report.append(("Deleted", image.id))
        log.for_object(log.images, "image", image.id).info("removed")
        return report

    def _named_reference(self, text: str, image: Image) -> str | None:
        try:
            ref = parse_reference(text)
        except InvalidArgument:
            return None
        return str(ref) if str(ref) in image.tags else None

    def _untag(self, conn: sqlite3.Connection, image: Image, name: str) -> None:
        conn.execute("DELETE FROM tags WHERE name = ?", (name,))
        self._events.record(conn, "image", "untag", image.id, name=name)

    def _holders(
        self, conn: sqlite3.Connection, image_id: str
    ) -> builtins.list[tuple[str, str]]:
        rows = conn.execute(
            "SELECT holder_kind, holder_id FROM image_holds WHERE image_id = ?",
            (image_id,),
        ).fetchall()
        return [(row[0], row[1]) for row in rows]


def _load(conn: sqlite3.Connection, image_id: str) -> Image | None:
    row = conn.execute("SELECT * FROM images WHERE id = ?", (image_id,)).fetchone()
    if row is None:
        return None
    layers = tuple(
        Layer(r["digest"], r["media_type"], r["size"], r["diff_id"], r["chain_id"])
        for r in conn.execute(
            "SELECT * FROM image_layers WHERE image_id = ? ORDER BY position",
            (image_id,),
        )
    )
    tags = tuple(
        r[0]
        for r in conn.execute(
            "SELECT name FROM tags WHERE image_id = ? ORDER BY tagged_at", (image_id,)
        )
    )
    digests = tuple(
        f"{r[0]}@{r[1]}"
        for r in conn.execute(
            "SELECT repository, digest FROM repo_digests WHERE image_id = ?"
            " ORDER BY repository, digest",
            (image_id,),
        )
    )
    return Image(
        id=row["id"],
        manifest_digest=row["manifest_digest"],
        manifest_media_type=row["manifest_media_type"],
        created=row["created"],
        os=row["os"],
        architecture=row["architecture"],
        variant=row["variant"],
        size=row["size"],
        added_at=row["added_at"],
        tags=tags,
        repo_digests=digests,
        layers=layers,
    )
