"""Prune filters through the real docker CLI: ``image prune``, ``network
prune`` and ``volume prune`` with ``label``, ``label!`` and ``until`` remove
what the filters select and leave the rest; a bad filter removes nothing."""

from __future__ import annotations

import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

from api_daemon import Daemon


def _import(daemon: Daemon, tar: Path, name: str | None, *labels: str) -> str:
    """An image of ``tar`` with ``labels``; untagged (dangling) without
    ``name``."""
    changes = [arg for label in labels for arg in ("--change", f"LABEL {label}")]
    named = [name] if name else []
    return daemon.servin_ok("import", *changes, tar, *named).strip()


def test_image_prune_removes_only_the_images_its_filters_select(
    daemon: Daemon, busybox_rootfs_tar: Path
) -> None:
    old_red = _import(daemon, busybox_rootfs_tar, "red:old", "team=red")
    between = time.time()
    blue = _import(daemon, busybox_rootfs_tar, "blue:1", "team=blue")
    plain = _import(daemon, busybox_rootfs_tar, "plain:1")
    new_red = _import(daemon, busybox_rootfs_tar, "red:new", "team=red")
    loose_blue = _import(daemon, busybox_rootfs_tar, None, "team=blue")

    def images() -> set[str]:
        return set(daemon.docker_ok("images", "-q", "--no-trunc").split())

    def prune(*args: str) -> str:
        return daemon.docker_ok("image", "prune", "-f", *args)

    bad_time = daemon.docker("image", "prune", "-af", "--filter", "until=yesterday")
    unknown = daemon.docker("image", "prune", "-af", "--filter", "colour=red")
    after_refusals = images()
    by_time = prune("-a", "--filter", f"until={between}")
    after_time = images()
    dangling_only = prune("--filter", "label=team=blue")
    after_dangling = images()
    prune("-a", "--filter", "label=team=red")
    after_red = images()
    prune("-a", "--filter", "label!=team")
    after_unlabelled = images()

    assert bad_time.returncode != 0
    assert "until" in bad_time.stderr and "yesterday" in bad_time.stderr
    assert unknown.returncode != 0 and "colour" in unknown.stderr
    assert after_refusals == {old_red, blue, plain, new_red, loose_blue}
    assert old_red in by_time and after_time == {blue, plain, new_red, loose_blue}
    assert loose_blue in dangling_only and after_dangling == {blue, plain, new_red}
    assert after_red == {blue, plain}
    assert after_unlabelled == {blue}


def test_image_prune_refuses_a_dangling_filter_that_is_not_a_boolean(
    daemon: Daemon, busybox_rootfs_tar: Path
) -> None:
    loose = _import(daemon, busybox_rootfs_tar, None)
    query = urllib.parse.quote('{"dangling": ["maybe"]}')

    reply = daemon.request("POST", f"/images/prune?filters={query}")

    assert reply.status == 400
    assert "dangling" in reply.json()["message"]
    assert daemon.docker_ok("images", "-q", "--no-trunc").split() == [loose]


def test_network_prune_removes_only_the_networks_its_filters_select(
    daemon: Daemon,
) -> None:
    daemon.docker_ok("network", "create", "--label", "env=test", "old-test")
    between = datetime.fromtimestamp(time.time(), UTC).isoformat()
    daemon.docker_ok("network", "create", "--label", "env=prod", "prod")
    daemon.docker_ok("network", "create", "plain")
    daemon.docker_ok("network", "create", "--label", "env=test", "new-test")
    custom = {"old-test", "prod", "plain", "new-test"}

    def networks() -> set[str]:
        listed = daemon.docker_ok("network", "ls", "--format", "{{.Name}}")
        return set(listed.split()) & custom

    def prune(*args: str) -> str:
        return daemon.docker_ok("network", "prune", "-f", *args)

    bad_time = daemon.docker("network", "prune", "-f", "--filter", "until=soon")
    after_refusal = networks()
    by_time = prune("--filter", f"until={between}")
    after_time = networks()
    by_label = prune("--filter", "label=env=test")
    after_label = networks()
    prune("--filter", "label!=env")
    after_unlabelled = networks()

    assert bad_time.returncode != 0 and "until" in bad_time.stderr
    assert after_refusal == custom
    assert "old-test" in by_time and after_time == {"prod", "plain", "new-test"}
    assert "new-test" in by_label and after_label == {"prod", "plain"}
    assert after_unlabelled == {"prod"}


def test_volume_prune_selects_by_label_and_refuses_until(daemon: Daemon) -> None:
    for name, labels in (
        ("kept", ["--label", "keep=1"]),
        ("other", ["--label", "keep=0"]),
        ("plain", []),
        ("spare", ["--label", "keep=1", "--label", "tier=cold"]),
    ):
        daemon.docker_ok("volume", "create", *labels, name)

    def volumes() -> set[str]:
        return set(daemon.docker_ok("volume", "ls", "-q").split())

    until = daemon.docker("volume", "prune", "-af", "--filter", "until=1h")
    after_refusal = volumes()
    anonymous_only = daemon.docker_ok(
        "volume", "prune", "-f", "--filter", "label=keep=0"
    )
    after_anonymous = volumes()
    daemon.docker_ok("volume", "prune", "-af", "--filter", "label!=keep=1")
    after_unwanted = volumes()
    daemon.docker_ok("volume", "prune", "-af", "--filter", "label=tier")
    after_tier = volumes()

    assert until.returncode != 0
    assert "until" in until.stderr and "volume prune" in until.stderr
    assert after_refusal == {"kept", "other", "plain", "spare"}
    assert "other" not in anonymous_only and after_anonymous == after_refusal
    assert after_unwanted == {"kept", "spare"}
    assert after_tier == {"kept"}
