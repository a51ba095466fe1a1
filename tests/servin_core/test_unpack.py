import io
import os
import stat
from pathlib import Path

import pytest
from imagekit import Entry, file, tar_of

from servin_core.errors import InvalidArgument
from servin_core.images.unpack import apply_layer


def apply(root: Path, entries: list[Entry]) -> None:
    root.mkdir(exist_ok=True)
    apply_layer(io.BytesIO(tar_of(entries)), str(root), ident="sha256:test")


def test_files_keep_their_mode_owner_and_xattrs(tmp_path: Path) -> None:
    apply(
        tmp_path / "fs",
        [
            Entry("bin", "dir", mode=0o755),
            file("bin/tool", b"#!/bin/sh\n", mode=0o4755, uid=1000, gid=50),
            Entry("bin/link", "symlink", target="/bin/tool"),
            Entry("bin/hard", "hardlink", target="bin/tool"),
            file("bin/cap", b"x", xattrs={"user.note": "kept"}),
        ],
    )
    tool = os.stat(tmp_path / "fs/bin/tool")
    assert stat.S_IMODE(tool.st_mode) == 0o4755
    assert (tool.st_uid, tool.st_gid) == (1000, 50)
    assert os.readlink(tmp_path / "fs/bin/link") == "/bin/tool"
    assert os.stat(tmp_path / "fs/bin/hard").st_ino == tool.st_ino
    assert os.getxattr(tmp_path / "fs/bin/cap", "user.note") == b"kept"


def test_whiteouts_become_overlayfs_whiteouts(tmp_path: Path) -> None:
    apply(
        tmp_path / "fs",
        [
            Entry("etc", "dir", mode=0o755),
            file("etc/.wh.removed"),
            Entry("opaque", "dir", mode=0o755),
            file("opaque/.wh..wh..opq"),
            file("opaque/new", b"upper"),
        ],
    )
    whiteout = os.lstat(tmp_path / "fs/etc/removed")
    assert stat.S_ISCHR(whiteout.st_mode) and whiteout.st_rdev == os.makedev(0, 0)
    assert not (tmp_path / "fs/etc/.wh.removed").exists()
    opaque = tmp_path / "fs/opaque"
    assert os.getxattr(opaque, "trusted.overlay.opaque") == b"y"
    assert sorted(os.listdir(opaque)) == ["new"]


def test_a_layer_cannot_forge_overlayfs_xattrs(tmp_path: Path) -> None:
    apply(
        tmp_path / "fs",
        [Entry("d", "dir", mode=0o755, xattrs={"trusted.overlay.opaque": "y"})],
    )
    with pytest.raises(OSError):
        os.getxattr(tmp_path / "fs/d", "trusted.overlay.opaque")


def test_absolute_names_stay_inside_the_root(tmp_path: Path) -> None:
    apply(tmp_path / "fs", [file("/etc/motd", b"inside")])
    assert (tmp_path / "fs/etc/motd").read_bytes() == b"inside"


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ([file("../evil", b"x")], "escapes the layer root"),
        ([file("a/../../evil", b"x")], "escapes the layer root"),
        (
            [Entry("link", "symlink", target="/tmp"), file("link/evil", b"x")],
            "passes through 'link'",
        ),
        (
            [Entry("up", "symlink", target="../.."), file("up/evil", b"x")],
            "passes through 'up'",
        ),
        ([Entry("pw", "hardlink", target="/etc/passwd")], "not in the layer"),
        ([Entry("pw", "hardlink", target="../outside")], "escapes the layer root"),
    ],
)
def test_hostile_entries_are_refused(
    tmp_path: Path, entries: list[Entry], reason: str
) -> None:
    (tmp_path / "outside").write_bytes(b"precious")
    with pytest.raises(InvalidArgument, match=reason) as caught:
        apply(tmp_path / "fs", entries)
    assert "sha256:test" in str(caught.value)
    assert sorted(os.listdir(tmp_path)) == ["fs", "outside"]
    assert not Path("/tmp/evil").exists()
    assert (tmp_path / "outside").read_bytes() == b"precious"


def test_device_nodes_are_created_as_root(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.fail("this suite runs as root, as CI does")
    apply(tmp_path / "fs", [Entry("null", "chardev", mode=0o666)])
    node = os.lstat(tmp_path / "fs/null")
    assert stat.S_ISCHR(node.st_mode) and node.st_rdev == os.makedev(1, 3)


def test_a_later_entry_replaces_an_earlier_one(tmp_path: Path) -> None:
    apply(
        tmp_path / "fs",
        [
            Entry("x", "dir", mode=0o755),
            file("x/inner", b"1"),
            file("x", b"now a file"),
            Entry("y", "symlink", target="/etc"),
            Entry("y", "dir", mode=0o755),
        ],
    )
    assert (tmp_path / "fs/x").read_bytes() == b"now a file"
    assert (tmp_path / "fs/y").is_dir() and not (tmp_path / "fs/y").is_symlink()


def test_not_a_tar_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "fs").mkdir()
    with pytest.raises(InvalidArgument, match="not a valid tar archive"):
        apply_layer(io.BytesIO(b"garbage" * 100), str(tmp_path / "fs"), ident="L")
