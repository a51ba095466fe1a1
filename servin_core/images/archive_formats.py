"""What an image archive holds: docker-archive's ``manifest.json`` or an OCI
layout's ``index.json``, read into :class:`PlannedImage` values.

docker-archive (docker's ``save`` format, modern ``blobs/sha256/HEX`` paths
or legacy ``HEX.json`` and ``DIR/layer.tar``) lists a config and layer files
per image, with tags; it has no manifest, so one is made when loading, which
keeps the config and therefore the image ID. An OCI layout lists manifests
(or indexes, of which the host's platform is taken) by digest, named by
annotations. Docker 25 writes both in one tarball; docker-archive is read
then, with the layout's manifest reused when it describes the same image.
"""

from __future__ import annotations

from typing import Any

from servin_core.errors import InvalidArgument
from servin_core.images import mediatypes
from servin_core.images.archive_reader import (
    ArchiveReader,
    BlobSource,
    PlannedImage,
    archive_path,
    claimed_digest,
)
from servin_core.images.content import digest_of
from servin_core.images.create import parse_manifest
from servin_core.images.platform import host_platform, select_manifest
from servin_core.images.reference import Reference, parse_digest, parse_reference

__all__ = ["NAME_ANNOTATION", "REF_NAME_ANNOTATION", "plan_images"]

NAME_ANNOTATION = "io.containerd.image.name"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"


def plan_images(reader: ArchiveReader) -> list[PlannedImage]:
    """The images in the archive, one per image ID, with all their tags."""
    if reader.has("manifest.json"):
        plans = _docker_archive(reader)
    elif reader.has("index.json"):
        plans = _oci_layout(reader)
    else:
        raise InvalidArgument(
            "archive", reader.ident, "neither manifest.json nor index.json found"
        )
    merged: dict[str, PlannedImage] = {}
    for plan in plans:
        key = plan.config.digest or plan.config.path
        if key in merged:
            merged[key].tags += [t for t in plan.tags if t not in merged[key].tags]
        else:
            merged[key] = plan
    return list(merged.values())


def _docker_archive(reader: ArchiveReader) -> list[PlannedImage]:
    entries = reader.read_json("manifest.json")
    if not isinstance(entries, list) or not entries:
        raise InvalidArgument("archive", reader.ident, "manifest.json lists no image")
    layout = _layout_manifests(reader) if reader.has("index.json") else {}
    plans = []
    for number, entry in enumerate(entries, 1):
        ident = f"{reader.ident}: manifest.json entry {number}"
        if not isinstance(entry, dict):
            raise InvalidArgument("archive", ident, "not an object")
        config_path = archive_path(entry.get("Config"), ident)
        raw_layers = entry.get("Layers")
        if not isinstance(raw_layers, list):
            raise InvalidArgument("archive", ident, "no list of Layers")
        layers = [
            BlobSource(path, claimed_digest(path), None, reader.layer_media_type(path))
            for path in (archive_path(p, ident) for p in raw_layers)
        ]
        config_bytes = reader.read(config_path, digest=claimed_digest(config_path))
        config = BlobSource(
            config_path,
            digest_of(config_bytes),
            len(config_bytes),
            mediatypes.OCI_CONFIG,
        )
        plan = PlannedImage(ident, config, layers, _repo_tags(entry, ident))
        original = layout.get(config.digest or "")
        if original is not None and [layer.digest for layer in original.layers] == [
            layer.digest for layer in layers
        ]:
            plan.layers = original.layers
            plan.manifest = original.manifest
            plan.manifest_media_type = original.manifest_media_type
        plans.append(plan)
    return plans


def _repo_tags(entry: dict[str, Any], ident: str) -> list[Reference]:
    raw = entry.get("RepoTags") or []
    if not isinstance(raw, list):
        raise InvalidArgument("archive", ident, "RepoTags is not a list")
    tags = []
    for text in raw:
        if not isinstance(text, str):
            raise InvalidArgument("archive", ident, f"invalid tag {text!r}")
        ref = parse_reference(text)
        if ref.digest:
            raise InvalidArgument("archive", ident, f"tag {text!r} holds a digest")
        tags.append(ref)
    return tags


def _layout_manifests(reader: ArchiveReader) -> dict[str, PlannedImage]:
    """The layout's images by config digest (reused by docker-archive)."""
    try:
        return {plan.config.digest or "": plan for plan in _oci_layout(reader)}
    except InvalidArgument:
        # manifest.json describes the images; a layout docker would not
        # read either does not make the archive unreadable.
        return {}


def _oci_layout(reader: ArchiveReader) -> list[PlannedImage]:
    if reader.has("oci-layout"):
        layout = reader.read_json("oci-layout")
        if not isinstance(layout, dict) or "imageLayoutVersion" not in layout:
            raise InvalidArgument("archive", reader.ident, "malformed oci-layout")
    index = reader.read_json("index.json")
    descriptors = index.get("manifests") if isinstance(index, dict) else None
    if not isinstance(descriptors, list):
        raise InvalidArgument("archive", reader.ident, "index.json lists no manifests")
    plans = []
    for number, descriptor in enumerate(descriptors, 1):
        ident = f"{reader.ident}: index.json manifest {number}"
        if not isinstance(descriptor, dict):
            raise InvalidArgument("archive", ident, "not a descriptor")
        tags = _annotated_tags(descriptor.get("annotations"), ident)
        chosen = descriptor
        if descriptor.get("mediaType") in mediatypes.INDEX_TYPES:
            index_path, index_digest = _blob(descriptor, ident)
            nested = reader.read_json(index_path, digest=index_digest)
            entries = nested.get("manifests") if isinstance(nested, dict) else None
            if not isinstance(entries, list):
                raise InvalidArgument("archive", ident, "index without manifests")
            chosen = select_manifest(entries, host_platform(), ident=ident)
        if chosen.get("mediaType") not in mediatypes.MANIFEST_TYPES:
            continue  # attestations, signatures: not images
        path, digest = _blob(chosen, ident)
        manifest = reader.read(path, digest=digest)
        parsed = parse_manifest(manifest, str(chosen["mediaType"]), ident=digest)
        config = BlobSource(
            *_blob_of(parsed.config.digest, ident),
            parsed.config.size,
            parsed.config.media_type,
        )
        layers = [
            BlobSource(*_blob_of(d.digest, ident), d.size, d.media_type)
            for d in parsed.layers
        ]
        plans.append(
            PlannedImage(ident, config, layers, tags, manifest, parsed.media_type)
        )
    if not plans:
        raise InvalidArgument("archive", reader.ident, "index.json lists no image")
    return plans


def _blob(descriptor: dict[str, Any], ident: str) -> tuple[str, str]:
    digest = descriptor.get("digest")
    if not isinstance(digest, str):
        raise InvalidArgument("archive", ident, "descriptor without a digest")
    return _blob_of(digest, ident)


def _blob_of(digest: str, ident: str) -> tuple[str, str]:
    algorithm, _, hexpart = parse_digest(digest).partition(":")
    if algorithm != "sha256":
        raise InvalidArgument("archive", ident, f"unsupported digest {digest}")
    return f"blobs/sha256/{hexpart}", digest


def _annotated_tags(annotations: Any, ident: str) -> list[Reference]:
    """The name of a layout's manifest: containerd's full name, else a
    ``ref.name`` that is a whole reference (a bare tag names no repository)."""
    if not isinstance(annotations, dict):
        return []
    name = annotations.get(NAME_ANNOTATION)
    if not isinstance(name, str):
        ref_name = annotations.get(REF_NAME_ANNOTATION)
        if not isinstance(ref_name, str) or not any(c in ref_name for c in ":/"):
            return []
        name = ref_name
    try:
        ref = parse_reference(name)
    except InvalidArgument as e:
        raise InvalidArgument("archive", ident, f"invalid image name {name!r}") from e
    return [ref] if ref.tag and not ref.digest else []
