"""Image references, normalized as docker normalizes them.

``busybox`` is ``docker.io/library/busybox:latest``; ``localhost:5000/a/b``
keeps its registry; a reference may carry a tag, a digest or both. Stored
names are always the full form; :meth:`Reference.familiar` gives docker's
short form for display.
"""

from __future__ import annotations

import re

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument

__all__ = [
    "DEFAULT_REGISTRY",
    "Reference",
    "parse_digest",
    "parse_reference",
]

DEFAULT_REGISTRY = "docker.io"
_LEGACY_DEFAULT_REGISTRIES = ("index.docker.io", "registry-1.docker.io")

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_DOMAIN_RE = re.compile(
    r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])"
    r"(?::[0-9]+)?"
)
_TAG_RE = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST_RE = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


def parse_digest(value: str) -> str:
    """``value`` if it is a well-formed digest, else InvalidArgument."""
    if not _DIGEST_RE.fullmatch(value):
        raise InvalidArgument("digest", value, "not a valid sha256 or sha512 digest")
    return value


@dataclass(frozen=True, slots=True)
class Reference:
    """A normalized image reference: ``domain/path[:tag][@digest]``."""

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def repository(self) -> str:
        """``domain/path``, the name without tag or digest."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def with_tag(self, tag: str) -> Reference:
        return Reference(self.domain, self.path, tag, None)

    def with_digest(self, digest: str) -> Reference:
        return Reference(self.domain, self.path, None, digest)

    def familiar_repository(self) -> str:
        """The repository as docker shows it: ``busybox``, ``user/app``."""
        if self.domain != DEFAULT_REGISTRY:
            return self.repository
        return self.path.removeprefix("library/")

    def familiar(self) -> str:
        text = self.familiar_repository()
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_reference(text: str, *, default_tag: bool = True) -> Reference:
    """Parse and normalize ``text``; without tag or digest, the tag is ``latest``.

    ``default_tag=False`` leaves a bare name without a tag (for ``push`` of
    all tags, or for matching repositories).
    """
    if not text or len(text) > 4096:
        raise InvalidArgument("reference", text, "empty or too long")
    remainder, digest = text, None
    if "@" in remainder:
        remainder, digest = remainder.split("@", 1)
        parse_digest(digest)

    tag = None
    slash = remainder.rfind("/")
    colon = remainder.rfind(":")
    if colon > slash:
        remainder, tag = remainder[:colon], remainder[colon + 1 :]
        if not _TAG_RE.fullmatch(tag):
            raise InvalidArgument("reference", text, f"invalid tag {tag!r}")

    domain, path = _split_domain(remainder)
    if not _DOMAIN_RE.fullmatch(domain):
        raise InvalidArgument("reference", text, f"invalid registry {domain!r}")
    if path != path.lower():
        raise InvalidArgument("reference", text, "repository name must be lowercase")
    if not _PATH_RE.fullmatch(path):
        raise InvalidArgument("reference", text, "invalid repository name")
    if len(domain) + 1 + len(path) > 255:
        raise InvalidArgument("reference", text, "repository name too long")
    if tag is None and digest is None and default_tag:
        tag = "latest"
    return Reference(domain, path, tag, digest)


def _split_domain(name: str) -> tuple[str, str]:
    first, sep, rest = name.partition("/")
    looks_like_domain = sep and (
        any(c in first for c in ".:") or first == "localhost" or first != first.lower()
    )
    if looks_like_domain:
        domain, path = first, rest
    else:
        domain, path = DEFAULT_REGISTRY, name
    if domain in _LEGACY_DEFAULT_REGISTRIES:
        domain = DEFAULT_REGISTRY
    if domain == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    return domain, path
