"""Applying a layer tarball to a directory, treating it as hostile input.

Every path is opened relative to a directory file descriptor, one component
at a time and never following a symlink, so no entry can write outside the
root: not through ``..``, an absolute name, a symlink planted by an earlier
entry, nor a hardlink to a file outside. Absolute names are taken relative
to the root, as docker takes them.

Docker's whiteouts become overlayfs's: ``.wh.NAME`` a 0:0 character device,
``.wh..wh..opq`` the ``trusted.overlay.opaque`` xattr on its directory. The
result is one layer's diff, ready to be stacked under an overlay mount.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tarfile
from typing import BinaryIO

from servin_core import log
from servin_core._dataclass import dataclass, field
from servin_core.errors import InvalidArgument

__all__ = ["LayerStats", "apply_layer"]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_OVERLAY_XATTR_PREFIX = "trusted.overlay."
_PAX_XATTR_PREFIX = "SCHILY.xattr."
_COPY_SIZE = 1 << 20


@dataclass
class LayerStats:
    """What applying a layer wrote."""

    size: int = 0
    entries: int = 0
    skipped_devices: list[str] = field(default_factory=list)


class _LayerError(InvalidArgument):
    pass


def apply_layer(
    tar_stream: BinaryIO, root: str | int, *, ident: str, whiteouts: bool = True
) -> LayerStats:
    """Unpack the uncompressed tar ``tar_stream`` into the directory ``root``
    (a path, or a directory descriptor, which stays the caller's to close).
    Without ``whiteouts``, ``.wh.`` names are plain files (an archive that is
    not a layer, as ``cp`` takes).

    ``ident`` names the layer in errors. On error, ``root`` is left partly
    written: the caller unpacks into a temporary directory and discards it.
    """
    applier = _Applier(root, ident)
    applier.whiteouts = whiteouts
    try:
        with tarfile.open(fileobj=tar_stream, mode="r|", errorlevel=2) as tar:
            for member in tar:
                applier.apply(tar, member)
        applier.finish()
    except tarfile.TarError as e:
        raise InvalidArgument("layer", ident, f"not a valid tar archive: {e}") from e
    finally:
        applier.close()
    return applier.stats


class _Applier:
    def __init__(self, root: str | int, ident: str) -> None:
        self.ident = ident
        if isinstance(root, int):
            self.root_fd = os.dup(root)
        else:
            self.root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        self.is_root = os.geteuid() == 0
        self.stats = LayerStats()
        self.whiteouts = True
        # Directory metadata is set last, so that a read-only directory can
        # still receive its entries and its mtime is not disturbed by them.
        self.dirs: list[tuple[tuple[str, ...], tarfile.TarInfo]] = []

    def close(self) -> None:
        os.close(self.root_fd)

    def fail(self, name: str, reason: str) -> _LayerError:
        return _LayerError("layer", self.ident, f"entry {name!r}: {reason}")

    def clean(self, name: str, *, entry: str | None = None) -> tuple[str, ...]:
        """``name``'s components inside the root; ``entry`` is the tar entry
        to blame when ``name`` is not its own (a hardlink's target)."""
        parts: list[str] = []
        for part in name.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    if entry is None:
                        raise self.fail(name, "path escapes the layer root")
                    raise self.fail(
                        entry, f"target {name!r}: path escapes the layer root"
                    )
                parts.pop()
            else:
                parts.append(part)
        return tuple(parts)

    def open_parent(self, parts: tuple[str, ...], name: str, create: bool) -> int:
        """A descriptor of the directory holding ``parts[-1]``, walked safely."""
        fd = os.dup(self.root_fd)
        try:
            for part in parts[:-1]:
                try:
                    next_fd = os.open(
                        part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd
                    )
                except FileNotFoundError:
                    if not create:
                        raise self.fail(
                            name, f"parent {part!r} does not exist"
                        ) from None
                    os.mkdir(part, 0o755, dir_fd=fd)
                    next_fd = os.open(
                        part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd
                    )
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise self.fail(
                            name, f"passes through {part!r}, which is not a directory"
                        ) from None
                    raise
                os.close(fd)
                fd = next_fd
        except BaseException:
            os.close(fd)
            raise
        return fd

    def apply(self, tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        parts = self.clean(member.name)
        if not parts:
            if member.isdir():
                self.dirs.append(((), member))
            return
        base = parts[-1]
        self.stats.entries += 1
        if self.whiteouts and base.startswith(WHITEOUT_PREFIX):
            self.whiteout(parts, member.name)
            return
        parent = self.open_parent(parts, member.name, create=True)
        try:
            self.create(tar, member, parts, parent)
        finally:
            os.close(parent)

    def whiteout(self, parts: tuple[str, ...], name: str) -> None:
        base = parts[-1]
        if base == OPAQUE_MARKER:
            if len(parts) == 1:
                target = os.dup(self.root_fd)
            else:
                parent = self.open_parent(parts[:-1], name, create=True)
                try:
                    _ensure_dir(parent, parts[-2])
                    target = os.open(
                        parts[-2],
                        os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                        dir_fd=parent,
                    )
                finally:
                    os.close(parent)
            try:
                os.setxattr(target, "trusted.overlay.opaque", b"y")
            finally:
                os.close(target)
            return
        if base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
            return  # aufs bookkeeping (.wh..wh.plnk and the like): no meaning here
        hidden = base[len(WHITEOUT_PREFIX) :]
        if hidden in ("", ".", ".."):
            raise self.fail(name, "whiteout of an invalid name")
        parent = self.open_parent(parts, name, create=True)
        try:
            _remove(parent, hidden)
            os.mknod(hidden, stat.S_IFCHR | 0o000, os.makedev(0, 0), dir_fd=parent)
        finally:
            os.close(parent)

    def create(
        self,
        tar: tarfile.TarFile,
        member: tarfile.TarInfo,
        parts: tuple[str, ...],
        parent: int,
    ) -> None:
        base = parts[-1]
        if member.isdir():
            existing = _lstat(parent, base)
            if existing is not None and not stat.S_ISDIR(existing.st_mode):
                _remove(parent, base)
                existing = None
            if existing is None:
                os.mkdir(base, 0o700, dir_fd=parent)
            self.dirs.append((parts, member))
            return

        _remove(parent, base)
        if member.isreg():
            self.write_file(tar, member, parent, base)
            self.stats.size += member.size
        elif member.issym():
            os.symlink(member.linkname, base, dir_fd=parent)
        elif member.islnk():
            self.hardlink(member, parent, base)
            return  # a hardlink shares its target's metadata
        elif member.ischr() or member.isblk():
            if not self.is_root:
                self.stats.skipped_devices.append(member.name)
                log.snapshots.info(
                    "layer %s: skipped device %s (not root)", self.ident, member.name
                )
                return
            kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK
            device = os.makedev(member.devmajor, member.devminor)
            os.mknod(base, kind | 0o600, device, dir_fd=parent)
        elif member.isfifo():
            os.mkfifo(base, 0o600, dir_fd=parent)
        else:
            raise self.fail(member.name, f"unsupported tar entry type {member.type!r}")
        self.set_metadata(parent, base, member)

    def write_file(
        self, tar: tarfile.TarFile, member: tarfile.TarInfo, parent: int, base: str
    ) -> None:
        source = tar.extractfile(member)
        assert source is not None
        fd = os.open(
            base,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
            dir_fd=parent,
        )
        with os.fdopen(fd, "wb", buffering=0) as out:
            shutil.copyfileobj(source, out, _COPY_SIZE)

    def hardlink(self, member: tarfile.TarInfo, parent: int, base: str) -> None:
        target = self.clean(member.linkname, entry=member.name)
        if not target:
            raise self.fail(member.name, "hardlink to the layer root")
        missing = f"hardlink target {member.linkname!r} is not in the layer"
        try:
            target_parent = self.open_parent(target, member.name, create=False)
        except _LayerError:
            raise self.fail(member.name, missing) from None
        try:
            existing = _lstat(target_parent, target[-1])
            if existing is None or stat.S_ISDIR(existing.st_mode):
                raise self.fail(member.name, missing)
            os.link(
                target[-1],
                base,
                src_dir_fd=target_parent,
                dst_dir_fd=parent,
                follow_symlinks=False,
            )
        finally:
            os.close(target_parent)

    def set_metadata(self, parent: int, base: str, member: tarfile.TarInfo) -> None:
        symlink = member.issym()
        if self.is_root:
            os.chown(base, member.uid, member.gid, dir_fd=parent, follow_symlinks=False)
        for key, value in member.pax_headers.items():
            if not key.startswith(_PAX_XATTR_PREFIX):
                continue
            attr = key[len(_PAX_XATTR_PREFIX) :]
            if attr.startswith(_OVERLAY_XATTR_PREFIX):
                continue  # would forge overlayfs's own whiteouts and redirects
            if symlink and attr.startswith("user."):
                continue  # the kernel refuses user xattrs on symlinks
            self.set_xattr(parent, base, attr, value.encode("utf-8", "surrogateescape"))
        if not symlink:
            # After chown, which clears set-user-ID and set-group-ID bits.
            os.chmod(base, member.mode & 0o7777, dir_fd=parent)
        mtime = int(member.mtime * 1_000_000_000)
        os.utime(base, ns=(mtime, mtime), dir_fd=parent, follow_symlinks=False)

    def set_xattr(self, parent: int, base: str, attr: str, value: bytes) -> None:
        # setxattr has no dir_fd form: reach the entry through /proc's view
        # of the parent descriptor, which cannot be redirected by symlinks
        # in the path above it.
        path = f"/proc/self/fd/{parent}/{base}"
        try:
            os.setxattr(path, attr, value, follow_symlinks=False)
        except OSError as e:
            if e.errno not in (errno.ENOTSUP, errno.EPERM):
                raise
            log.snapshots.info(
                "layer %s: could not set xattr %s on %s: %s", self.ident, attr, base, e
            )

    def finish(self) -> None:
        # Deepest first, so setting a parent's mtime comes after its children.
        for parts, member in reversed(self.dirs):
            if not parts:
                os.chmod(self.root_fd, member.mode & 0o7777)
                continue
            parent = self.open_parent(parts, member.name, create=False)
            try:
                self.set_metadata(parent, parts[-1], member)
            finally:
                os.close(parent)


def _lstat(parent: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=parent, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _ensure_dir(parent: int, name: str) -> None:
    existing = _lstat(parent, name)
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        return
    if existing is not None:
        _remove(parent, name)
    os.mkdir(name, 0o755, dir_fd=parent)


def _remove(parent: int, name: str) -> None:
    """Remove ``name`` in ``parent`` if present, a directory with its content."""
    existing = _lstat(parent, name)
    if existing is None:
        return
    if not stat.S_ISDIR(existing.st_mode):
        os.unlink(name, dir_fd=parent)
        return
    fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent)
    try:
        for entry in os.listdir(fd):
            _remove(fd, entry)
    finally:
        os.close(fd)
    os.rmdir(name, dir_fd=parent)
