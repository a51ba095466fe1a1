"""``--log-opt`` and ``--group-add`` through the real ``servin-tui``, with
real busybox containers: the log file kept within its limit, the groups the
process gets, and the values refused before anything is created."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from cli_runner import Cli, QuietCli

LIMIT = 16_000  # max-size=16k: docker counts its k as 1000
LAST = "line-2999-padding-padding-padding"
CHATTY = (
    "i=0; while [ $i -lt 3000 ]; do echo line-$i-padding-padding-padding;"
    " i=$((i+1)); done; sleep 30"
)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return QuietCli(tmp_path / "root")


def test_max_size_keeps_the_log_file_small_and_the_newest_lines(
    cli: Cli, image: str
) -> None:
    cli.ok(
        "run", "-d", "--name", "chatty", "--log-opt", "max-size=16k", image,
        "sh", "-c", CHATTY,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    logs = cli.ok("logs", "chatty").lines
    while LAST not in logs and time.monotonic() < deadline:
        time.sleep(0.2)
        logs = cli.ok("logs", "chatty").lines
    details = json.loads(cli.ok("inspect", "chatty").stdout)[0]
    size = Path(details["LogPath"]).stat().st_size

    # Everything written is 3000 lines of about 80 bytes in the file.
    # conmon starts the file again before a record would pass the limit;
    # one record of slack for its rounding.
    record = len(f"2026-01-01T00:00:00.000000000+00:00 stdout F {LAST}\n")
    assert size <= LIMIT + record, size
    assert logs[-1] == LAST
    assert "line-0-padding-padding-padding" not in logs
    assert len(logs) < 3000
    assert details["HostConfig"]["LogConfig"] == {
        "Type": "json-file",
        "Config": {"max-size": str(LIMIT)},
    }


def test_restarts_keep_the_log_under_twice_the_limit(cli: Cli, image: str) -> None:
    # Each run writes about 11 kB, less than the limit, so conmon alone
    # (which counts from its own start) would never start the file again
    # and five runs would leave about 55 kB.
    script = (
        "i=0; while [ $i -lt 150 ]; do echo run-$i-padding-padding; i=$((i+1)); done"
    )
    cli.ok(
        "run", "--name", "again", "--log-opt", "max-size=16k", image, "sh", "-c", script
    )
    path = Path(json.loads(cli.ok("inspect", "again").stdout)[0]["LogPath"])
    sizes = [path.stat().st_size]
    for _ in range(4):
        cli.ok("start", "-a", "again")
        sizes.append(path.stat().st_size)

    assert 8_000 < sizes[0] < LIMIT, sizes
    assert max(sizes) < 2 * LIMIT, sizes
    assert cli.ok("logs", "again").lines[-1] == "run-149-padding-padding"


def test_options_that_ask_for_what_conmon_does_are_taken(cli: Cli, image: str) -> None:
    # docker's own defaults: one file, not compressed.
    cli.ok(
        "run", "--name", "plain", "--log-opt", "max-file=1",
        "--log-opt", "compress=false", "--log-opt", "max-size=16k",
        image, "echo", "kept",
    )  # fmt: skip

    assert cli.ok("logs", "plain").lines == ["kept"]
    details = json.loads(cli.ok("inspect", "plain").stdout)[0]
    assert details["HostConfig"]["LogConfig"]["Config"] == {"max-size": str(LIMIT)}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (
            "max-file=3",
            "Error: --log-opt max-file=3: conmon keeps one log file per container",
        ),
        ("bogus", "Error: --log-opt bogus: expected KEY=VALUE (max-size=10m)"),
        ("max-size=1k", "Error: --log-opt max-size=1k: the minimum is 8238 bytes"),
    ],
)
def test_log_options_conmon_cannot_honour_are_refused(
    cli: Cli, image: str, option: str, message: str
) -> None:
    result = cli("run", "-d", "--log-opt", option, image, "true")
    created = cli("create", "--log-opt", option, image, "true")

    assert result.code == created.code == 125
    assert len(result.error_lines) == 1
    assert result.stderr.startswith(message), result.stderr
    assert created.stderr == result.stderr
    assert cli.ok("ps", "-a", "-q").lines == []


def test_group_add_by_number_and_by_name_from_the_images_etc_group(
    cli: Cli, image: str
) -> None:
    result = cli(
        "run", "--rm", "--group-add", "4242", "--group-add", "nogroup", image,
        "id", "-G",
    )  # fmt: skip
    created = cli.ok("create", "--group-add", "4242", image, "true")

    assert result.code == 0, result.stderr
    assert sorted(result.stdout.split()) == ["0", "4242", "65534"]
    details = json.loads(cli.ok("inspect", created.stdout.strip()).stdout)[0]
    assert details["HostConfig"]["GroupAdd"] == ["4242"]


def test_group_add_of_a_group_the_image_lacks_fails_naming_both(
    cli: Cli, image: str
) -> None:
    result = cli("run", "--name", "lonely", "--group-add", "ghosts", image, "true")

    assert result.code == 125, (result.code, result.stderr)
    assert result.error_lines[-1] == (
        "Error: container lonely: unable to find group ghosts"
    )
    # As docker does: the container was created and stays, never started.
    assert cli.ok("ps", "-a", "--format", "{{.Names}} {{.State}}").lines == [
        "lonely created"
    ]
