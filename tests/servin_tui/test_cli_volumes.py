"""Volumes through the real ``servin-tui``: ``volume create|ls|inspect|rm|
prune``, ``-v``, ``--mount`` and ``--tmpfs`` on ``run``, ``inspect``'s
Mounts and ``ps --filter volume=``, against real busybox containers, and the
errors of bad input, with nothing left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_runner import Cli, QuietCli


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return QuietCli(tmp_path / "root")


def volume_names(cli: Cli) -> list[str]:
    return cli.ok("volume", "ls", "-q").lines


def volume_dirs(cli: Cli) -> list[str]:
    root = cli.root / "volumes"
    return sorted(os.listdir(root)) if root.exists() else []


def test_create_list_inspect_and_remove(cli: Cli) -> None:
    assert cli.ok("volume", "create", "--label", "tier=db", "db").lines == ["db"]
    generated = cli.ok("volume", "create").stdout.strip()
    assert len(generated) == 64

    assert sorted(volume_names(cli)) == sorted(["db", generated])
    assert cli.ok("volume", "ls", "-q", "--filter", "label=tier=db").lines == ["db"]
    assert cli.ok("volume", "ls", "-q", "--filter", "name=^db$").lines == ["db"]
    table = cli.ok("volume", "ls", "--filter", "label=tier").lines
    assert table[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert table[1:] == ["local     db"]
    listed = cli.ok("volume", "ls", "--format", "{{.Name}}:{{.Labels}}").lines
    assert sorted(listed) == sorted(["db:tier=db", f"{generated}:"])
    assert cli.ok("volume", "ls", "-q", "--filter", "dangling=false").lines == []

    (details,) = json.loads(cli.ok("volume", "inspect", "db").stdout)
    assert details["Name"] == "db"
    assert details["Driver"] == "local"
    assert details["Labels"] == {"tier": "db"}
    assert details["Scope"] == "local"
    assert details["Mountpoint"].endswith("/volumes/db/_data")
    assert os.path.isdir(details["Mountpoint"])
    assert cli.ok("volume", "inspect", "-f", "{{.Name}}", "db").lines == ["db"]

    assert cli.ok("volume", "rm", "db", generated).lines == ["db", generated]
    assert volume_names(cli) == [] and volume_dirs(cli) == []


def test_data_in_a_named_volume_is_seen_by_the_next_container(
    cli: Cli, image: str
) -> None:
    cli.ok("run", "--name", "writer", "-v", "shared:/data", image,
           "sh", "-c", "echo hello > /data/greeting")  # fmt: skip
    cli.ok("rm", "writer")

    reader = cli.ok("run", "--name", "reader", "-v", "shared:/data:ro", image,
                    "cat", "/data/greeting")  # fmt: skip

    assert reader.stdout == "hello\n"
    assert cli.ok("ps", "-a", "--filter", "volume=shared", "--format",
                  "{{.Names}}").lines == ["reader"]  # fmt: skip
    assert cli.ok("ps", "-a", "-q", "--filter", "volume=/elsewhere").lines == []
    (details,) = json.loads(cli.ok("inspect", "reader").stdout)
    (mount,) = details["Mounts"]
    assert mount["Type"] == "volume"
    assert mount["Name"] == "shared"
    assert mount["Source"].endswith("/volumes/shared/_data")
    assert mount["Destination"] == "/data"
    assert mount["RW"] is False


def test_a_new_volume_is_filled_from_the_image(cli: Cli, image: str) -> None:
    result = cli.ok("run", "--rm", "-v", "etc:/etc", image, "head", "-1", "/etc/passwd")

    assert result.stdout == "root:x:0:0:root:/root:/bin/sh\n"
    (details,) = json.loads(cli.ok("volume", "inspect", "etc").stdout)
    assert "group" in os.listdir(details["Mountpoint"])


def test_the_images_volumes_are_anonymous_volumes(
    cli: Cli, busybox_rootfs_tar: Path
) -> None:
    cli.ok("import", "--change", "VOLUME /etc", busybox_rootfs_tar, "declared:1")
    cli.ok("run", "--name", "own", "declared:1", "head", "-1", "/etc/passwd")
    cli.ok("run", "--name", "given", "-v", "mine:/etc", "declared:1", "true")

    (details,) = json.loads(cli.ok("inspect", "own").stdout)
    (mount,) = details["Mounts"]
    assert (mount["Type"], mount["Destination"]) == ("volume", "/etc")
    assert len(mount["Name"]) == 64
    assert cli.ok("logs", "own").stdout == "root:x:0:0:root:/root:/bin/sh\n"
    assert sorted(volume_names(cli)) == sorted([mount["Name"], "mine"])

    cli.ok("rm", "-v", "own", "given")

    assert volume_names(cli) == ["mine"]


def test_a_volume_in_use_cannot_be_removed(cli: Cli, image: str) -> None:
    container_id = cli.ok("create", "--name", "holder", "-v", "busy:/data",
                          image, "true").stdout.strip()  # fmt: skip

    result = cli("volume", "rm", "busy")

    assert result.code == 1
    assert result.error_lines == [
        f"Error: volume busy: volume is in use by container holder"
        f" ({container_id[:12]})"
    ]
    assert volume_names(cli) == ["busy"]
    cli.ok("rm", "holder")
    assert cli.ok("volume", "rm", "busy").lines == ["busy"]


def test_rm_v_removes_anonymous_volumes_not_named_ones(cli: Cli, image: str) -> None:
    cli.ok("create", "--name", "both", "-v", "/anon", "--mount",
           "type=volume,src=named,dst=/named", image, "true")  # fmt: skip
    (details,) = json.loads(cli.ok("inspect", "both").stdout)
    anonymous = [m["Name"] for m in details["Mounts"] if m["Destination"] == "/anon"]
    assert len(anonymous[0]) == 64
    assert sorted(volume_names(cli)) == sorted([anonymous[0], "named"])

    cli.ok("rm", "-v", "both")

    assert volume_names(cli) == ["named"]
    assert volume_dirs(cli) == ["named"]


def test_run_rm_removes_its_anonymous_volumes_not_named_ones(
    cli: Cli, image: str
) -> None:
    result = cli.ok("run", "--rm", "-v", "/scratch", "-v", "made:/made", image,
                    "touch", "/scratch/x", "/made/y")  # fmt: skip

    assert result.code == 0
    assert volume_names(cli) == ["made"] and volume_dirs(cli) == ["made"]


def test_prune_removes_anonymous_volumes_and_with_all_named_ones(
    cli: Cli, image: str
) -> None:
    cli.ok("run", "--name", "one", "-v", "/anon", "-v", "kept:/kept", image, "true")
    cli.ok("volume", "create", "unused")
    cli.ok("rm", "one")
    declined = cli("volume", "prune", stdin=b"n\n")
    assert declined.code == 1 and "not confirmed" in declined.stderr
    assert len(volume_names(cli)) == 3

    pruned = cli.ok("volume", "prune", stdin=b"y\n")

    assert pruned.lines[0].startswith("This removes anonymous volumes")
    assert pruned.lines[1] == "Continue? [y/N] Deleted Volumes:"
    assert len(pruned.lines[2]) == 64
    assert pruned.lines[-1].startswith("Total reclaimed space:")
    assert sorted(volume_names(cli)) == ["kept", "unused"]
    cli.ok("create", "--name", "user", "-v", "kept:/kept", image, "true")

    everything = cli.ok("volume", "prune", "-a", "-f").lines

    assert everything[:2] == ["Deleted Volumes:", "unused"]
    assert volume_names(cli) == ["kept"]


def test_read_only_bind_refuses_writes_and_v_makes_a_missing_source(
    cli: Cli, image: str, tmp_path: Path
) -> None:
    host = tmp_path / "host"
    host.mkdir()

    result = cli("run", "--rm", "-v", f"{host}:/data:ro", image,
                 "sh", "-c", "echo x > /data/file")  # fmt: skip

    assert result.code == 1
    assert "Read-only file system" in result.stderr
    assert os.listdir(host) == []
    made = tmp_path / "made" / "here"
    cli.ok("run", "--rm", "-v", f"{made}:/data", image, "touch", "/data/new")
    assert os.listdir(made) == ["new"]


def test_tmpfs_mounts_have_the_size_given(cli: Cli, image: str) -> None:
    cli.ok("volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs",
           "--opt", "o=size=3m", "memory")  # fmt: skip

    result = cli.ok(
        "run", "--rm", "--tmpfs", "/one:size=1m",
        "--mount", "type=tmpfs,dst=/two,tmpfs-size=2m",
        "-v", "memory:/three", image, "grep", "tmpfs /one\\|tmpfs /two\\|tmpfs /three",
        "/proc/mounts",
    )  # fmt: skip

    sizes = {line.split()[1]: line.split()[3] for line in result.lines}
    assert sorted(sizes) == ["/one", "/three", "/two"]
    assert "size=1024k" in sizes["/one"].split(",")
    assert "size=2048k" in sizes["/two"].split(",")
    assert "size=3072k" in sizes["/three"].split(",")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["volume", "create", "a/b"], "Error: volume name a/b: a volume name cannot"),
        (
            ["run", "-v", "rel/dir:/x"],
            "Error: volume rel/dir:/x: 'rel/dir' is a relative",
        ),
        (
            ["run", "--mount", "type=bind,src=rel,dst=/x"],
            "'rel' is not an absolute path",
        ),
        (
            ["run", "--mount", "type=bind,src=/no/such/dir,dst=/x"],
            "bind source path does not exist: /no/such/dir",
        ),
        (["run", "--mount", "type=volume,dst=/x,colour=red"], "unknown field 'colour'"),
        (["run", "-v", "a/b:/x"], "'a/b' is a relative host path"),
        (["volume", "create", "-o", "size=1m", "v1"], "invalid option 'size'"),
        (
            ["run", "--mount", "type=volume,src=v2,dst=/x,volume-opt=size=1m"],
            "volume v2: invalid option 'size'",
        ),
        (
            ["run", "--mount", "type=bind,src=/tmp,dst=/x,volume-opt=type=tmpfs"],
            "unknown field 'volume-opt' for type bind",
        ),
    ],
)
def test_bad_input_is_refused_leaving_nothing(
    cli: Cli, image: str, argv: list[str], message: str
) -> None:
    if argv[0] == "run":
        argv = [*argv, image, "true"]

    result = cli(*argv)

    assert result.code in (1, 125)
    assert message in result.stderr
    assert cli.ok("ps", "-a", "-q").lines == []
    assert volume_names(cli) == [] and volume_dirs(cli) == []
    assert not Path("rel").exists() and not Path("a").exists()


def test_volumes_from_mounts_another_containers_volumes_and_binds(
    cli: Cli, image: str, tmp_path: Path
) -> None:
    host = tmp_path / "host"
    host.mkdir()
    (host / "seen").write_text("bound\n")
    cli.ok("run", "--name", "source", "-v", "named:/named", "-v", "/anon",
           "-v", f"{host}:/host:ro", "--tmpfs", "/private", image,
           "sh", "-c", "echo n > /named/n; echo a > /anon/a")  # fmt: skip

    shared = cli("run", "--rm", "--volumes-from", "source", image,
                    "sh", "-c", "cat /named/n /anon/a /host/seen;"
                    " grep -c ' /private ' /proc/mounts")  # fmt: skip
    refused = cli("run", "--rm", "--volumes-from", "source:ro", image,
                  "touch", "/named/x")  # fmt: skip

    assert shared.stdout == "n\na\nbound\n0\n"  # grep found no tmpfs: status 1
    assert refused.code == 1 and "Read-only file system" in refused.stderr
    anonymous = [name for name in volume_names(cli) if name != "named"]
    assert len(anonymous) == 1
    cli.ok("rm", "-v", "source")
    assert volume_names(cli) == ["named"]


def test_volumes_from_an_unknown_container_is_refused(cli: Cli, image: str) -> None:
    result = cli("run", "--volumes-from", "nobody", image, "true")

    assert result.code == 125
    assert "container nobody" in result.stderr
    assert cli.ok("ps", "-a", "-q").lines == []


def test_selinux_and_propagation_options_of_binds(
    cli: Cli, image: str, tmp_path: Path
) -> None:
    cli.ok("create", "--name", "opts", "-v", f"{tmp_path}:/z:z",
           "--mount", f"type=bind,src={tmp_path},dst=/slave,bind-propagation=rslave",
           image, "true")  # fmt: skip
    cli.ok("start", "opts")

    assert cli.ok("wait", "opts").lines == ["0"]
    (details,) = json.loads(cli.ok("inspect", "opts").stdout)
    propagation = {m["Destination"]: m["Propagation"] for m in details["Mounts"]}
    assert propagation == {"/z": "rprivate", "/slave": "rslave"}


def test_a_mount_makes_its_volume_with_the_options_and_labels_given(
    cli: Cli, image: str
) -> None:
    mount = ("type=volume,src=mem,dst=/m,volume-opt=type=tmpfs,volume-opt=device=tmpfs,"
             "volume-opt=o=size=2m,volume-label=tier=cache")  # fmt: skip

    result = cli.ok(
        "run", "--rm", "--mount", mount, image, "grep", " /m ", "/proc/mounts"
    )

    assert result.stdout.split()[2] == "tmpfs"
    assert "size=2048k" in result.stdout.split()[3].split(",")
    (details,) = json.loads(cli.ok("volume", "inspect", "mem").stdout)
    assert details["Options"] == {"type": "tmpfs", "device": "tmpfs", "o": "size=2m"}
    assert details["Labels"] == {"tier": "cache"}
