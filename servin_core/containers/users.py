"""Who the container's process runs as, from the image's own user database.

docker's ``--user`` accepts ``name``, ``uid``, ``name:group``, ``uid:gid``
and mixes; names are looked up in the container's /etc/passwd and
/etc/group (never the host's), and the user's supplementary groups are the
groups of /etc/group that list them. A numeric user absent from /etc/passwd
is allowed (gid 0, home /), as docker allows it.
"""

from __future__ import annotations

from pathlib import Path

from servin_core._dataclass import dataclass, field
from servin_core.errors import InvalidArgument

__all__ = ["ProcessUser", "resolve_groups", "resolve_user"]


@dataclass(frozen=True, eq=False)
class ProcessUser:
    """The IDs and home directory the container's process runs with."""

    uid: int
    gid: int
    additional_gids: list[int] = field(default_factory=list)
    home: str = "/"


def _read_table(rootfs: Path, name: str) -> list[list[str]]:
    """Rows of /etc/NAME inside ``rootfs``; none if it is absent or a symlink
    (which could point outside the container's root)."""
    path = rootfs / "etc" / name
    if path.is_symlink() or not path.is_file():
        return []
    rows = []
    for line in path.read_text(errors="replace").splitlines():
        if line and not line.startswith("#"):
            rows.append(line.split(":"))
    return rows


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def resolve_user(rootfs: Path, spec: str, container: str) -> ProcessUser:
    """The uid, gid and groups that ``spec`` (docker's ``--user``) means in
    the root file system ``rootfs``; InvalidArgument naming ``container``."""
    user_text, _, group_text = (spec or "0").partition(":")
    passwd = [row for row in _read_table(rootfs, "passwd") if len(row) >= 4]
    groups = [row for row in _read_table(rootfs, "group") if len(row) >= 3]

    uid = _number(user_text)
    entry = next(
        (
            row
            for row in passwd
            if (row[0] == user_text if uid is None else _number(row[2]) == uid)
        ),
        None,
    )
    if entry is None and uid is None:
        raise InvalidArgument(
            "container",
            container,
            f"unable to find user {user_text}: no matching entries in passwd file",
        )
    if entry is not None:
        uid = _number(entry[2])
    gid = _number(entry[3]) if entry is not None else 0
    home = entry[5] if entry is not None and len(entry) > 5 and entry[5] else "/"
    assert uid is not None

    if group_text:
        gid = _number(group_text)
        if gid is None:
            row = next((row for row in groups if row[0] == group_text), None)
            if row is None:
                raise InvalidArgument(
                    "container",
                    container,
                    f"unable to find group {group_text}: no matching entries in"
                    " group file",
                )
            gid = _number(row[2])

    additional: list[int] = []
    if entry is not None and not group_text:
        for row in groups:
            member_gid = _number(row[2])
            members = row[3].split(",") if len(row) > 3 else []
            if (
                entry[0] in members
                and member_gid is not None
                and member_gid != gid
                and member_gid not in additional
            ):
                additional.append(member_gid)
    return ProcessUser(uid, gid or 0, additional, home)


def resolve_groups(rootfs: Path, names: list[str], container: str) -> list[int]:
    """The group IDs that ``names`` (IDs, or names in the root file system's
    /etc/group) mean; InvalidArgument naming ``container`` for an unknown
    name."""
    groups = [row for row in _read_table(rootfs, "group") if len(row) >= 3]
    found: list[int] = []
    for name in names:
        gid = _number(name)
        if gid is None:
            row = next((row for row in groups if row[0] == name), None)
            gid = _number(row[2]) if row is not None else None
        if gid is None:
            raise InvalidArgument(
                "container", container, f"unable to find group {name}"
            )
        if gid not in found:
            found.append(gid)
    return found
