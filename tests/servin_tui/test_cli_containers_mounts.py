"""``-v``, ``--mount`` and ``--tmpfs`` in docker's syntaxes, and the errors
for mounts that cannot work."""

from __future__ import annotations

from pathlib import Path

import pytest

from servin_core.errors import InvalidArgument
from servin_tui.cli.containers_mounts import parse_mounts


def test_volume_syntaxes(tmp_path: Path) -> None:
    mounts = parse_mounts(
        [f"{tmp_path}:/data:ro", "cache:/cache", "/anonymous"],
        [
            f"type=bind,source={tmp_path},target=/b,readonly,bind-propagation=rslave",
            "type=volume,src=named,dst=/v,volume-nocopy",
            "type=tmpfs,target=/t,tmpfs-size=1m",
        ],
        ["/run:size=64k,noexec"],
    )

    described = [(m.type, m.source, m.target, m.read_only, m.options) for m in mounts]
    assert described == [
        ("bind", str(tmp_path), "/data", True, ()),
        ("volume", "cache", "/cache", False, ()),
        ("volume", "", "/anonymous", False, ()),
        ("bind", str(tmp_path), "/b", True, ("rslave",)),
        ("volume", "named", "/v", False, ("nocopy",)),
        ("tmpfs", "", "/t", False, ("size=1m",)),
        ("tmpfs", "", "/run", False, ("size=64k", "noexec")),
    ]


@pytest.mark.parametrize(
    ("volumes", "mounts", "message"),
    [
        (["data"], [], "destination must be an absolute path"),
        (["/a:/b:rx"], [], "invalid mode 'rx'"),
        (["/a:/"], [], "destination cannot be /"),
        (["/a:/x", "/b:/x"], [], "mount point /x: is given twice"),
        (["bad name:/x"], [], "neither an absolute path nor a volume name"),
        ([], ["type=bind,target=/x"], "needs a source"),
        ([], ["type=bind,source=/does/not/exist,target=/x"], "does not exist"),
        ([], ["type=nfs,target=/x"], "unsupported type 'nfs'"),
        ([], ["type=tmpfs,source=/a,target=/x"], "takes no source"),
        ([], ["type=volume,target=/x,colour=red"], "unknown field 'colour'"),
        ([], ["type=volume"], "a target is required"),
    ],
)
def test_bad_mounts_are_refused(
    volumes: list[str], mounts: list[str], message: str
) -> None:
    with pytest.raises(InvalidArgument, match=message):
        parse_mounts(volumes, mounts, [])
