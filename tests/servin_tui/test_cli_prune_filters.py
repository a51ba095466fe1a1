"""``--filter`` on the prune commands of the real ``servin-tui``: ``image``,
``container``, ``network`` and ``volume prune`` remove what ``label``,
``label!`` and ``until`` select and leave the rest; a bad filter is an error
naming it, and nothing is removed."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from cli_runner import Cli


def _lister(cli: Cli, *args: str) -> Callable[[], set[str]]:
    return lambda: set(cli.ok(*args).stdout.split())


def test_image_prune_filters(cli: Cli, busybox_rootfs_tar: Path) -> None:
    def add(name: str, *labels: str) -> str:
        changes = [a for label in labels for a in ("--change", f"LABEL {label}")]
        return cli.ok("import", *changes, busybox_rootfs_tar, name).stdout.strip()

    old_red = add("red:old", "team=red")
    between = time.time()
    blue, plain = add("blue:1", "team=blue"), add("plain:1")
    new_red = add("red:new", "team=red")
    images = _lister(cli, "images", "-q", "--no-trunc")

    bad_time = cli("image", "prune", "-af", "--filter", "until=yesterday")
    no_value = cli("image", "prune", "-af", "--filter", "label")
    after_refusals = images()
    by_time = cli.ok("image", "prune", "-af", "--filter", f"until={between}")
    after_time = images()
    cli.ok("image", "prune", "-af", "--filter", "label=team=red")
    after_red = images()
    cli.ok("image", "prune", "-af", "--filter", "label!=team")
    after_unlabelled = images()

    assert bad_time.code != 0 and "filter until" in bad_time.stderr
    assert "'yesterday'" in bad_time.stderr
    assert no_value.code != 0 and "filter label: expected KEY=VALUE" in no_value.stderr
    assert after_refusals == {old_red, blue, plain, new_red}
    assert old_red in by_time.stdout and after_time == {blue, plain, new_red}
    assert after_red == {blue, plain}
    assert after_unlabelled == {blue}


def test_container_prune_filters(cli: Cli, busybox_rootfs_tar: Path) -> None:
    cli.ok("import", busybox_rootfs_tar, "busybox-test:1")

    def add(name: str, *labels: str) -> None:
        flags = [a for label in labels for a in ("--label", label)]
        cli.ok("create", "--name", name, *flags, "busybox-test:1", "true")

    add("old-red", "team=red")
    between = datetime.fromtimestamp(time.time(), UTC).isoformat()
    add("blue", "team=blue")
    add("plain")
    add("new-red", "team=red")
    names = _lister(cli, "ps", "-a", "--format", "{{.Names}}")

    unknown = cli("container", "prune", "-f", "--filter", "dangling=true")
    after_refusal = names()
    cli.ok("container", "prune", "-f", "--filter", f"until={between}")
    after_time = names()
    cli.ok("container", "prune", "-f", "--filter", "label=team=red")
    after_red = names()
    cli.ok("container", "prune", "-f", "--filter", "label!=team=blue")
    after_not_blue = names()

    assert unknown.code != 0 and "filter dangling" in unknown.stderr
    assert after_refusal == {"old-red", "blue", "plain", "new-red"}
    assert after_time == {"blue", "plain", "new-red"}
    assert after_red == {"blue", "plain"}
    assert after_not_blue == {"blue"}


def test_network_prune_filters(cli: Cli) -> None:
    cli.ok("network", "create", "--label", "env=test", "old-test")
    between = time.time()
    cli.ok("network", "create", "--label", "env=prod", "prod")
    cli.ok("network", "create", "--label", "env=test", "new-test")
    custom = {"old-test", "prod", "new-test"}
    listed = _lister(cli, "network", "ls", "--format", "{{.Name}}")

    twice = cli(
        "network", "prune", "-f", "--filter", "until=1h", "--filter", "until=2h"
    )
    after_refusal = listed() & custom
    cli.ok("network", "prune", "-f", "--filter", f"until={between}")
    after_time = listed() & custom
    cli.ok("network", "prune", "-f", "--filter", "label!=env=prod")
    after_not_prod = listed() & custom

    assert twice.code != 0 and "filter until: given more than once" in twice.stderr
    assert after_refusal == custom
    assert after_time == {"prod", "new-test"}
    assert after_not_prod == {"prod"}


def test_volume_prune_filters(cli: Cli) -> None:
    cli.ok("volume", "create", "--label", "keep=1", "kept")
    cli.ok("volume", "create", "--label", "keep=0", "other")
    cli.ok("volume", "create", "plain")
    volumes = _lister(cli, "volume", "ls", "-q")

    until = cli("volume", "prune", "-af", "--filter", "until=1h")
    after_refusal = volumes()
    cli.ok("volume", "prune", "-af", "--filter", "label=keep=0")
    after_label = volumes()
    cli.ok("volume", "prune", "-af", "--filter", "label!=keep=1")
    after_unwanted = volumes()

    assert until.code != 0
    assert "filter until: not supported for volume prune" in until.stderr
    assert after_refusal == {"kept", "other", "plain"}
    assert after_label == {"kept", "plain"}
    assert after_unwanted == {"kept"}
