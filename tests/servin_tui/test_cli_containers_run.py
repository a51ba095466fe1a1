"""Containers through the real ``servin-tui``, end to end: run, create,
ps, logs and inspect against real busybox containers, and the exit codes
and messages of bad input, with nothing left behind."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_runner import SERVIN_TUI, Cli, QuietCli
from registry_fixtures import RegistryServer
from shell_scripts import EXITS_7_ON_USR1

IMAGE = "busybox-test:1"
ID_RE = re.compile(r"[0-9a-f]{64}")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return QuietCli(tmp_path / "root")


def all_ids(cli: Cli) -> list[str]:
    return cli.ok("ps", "-a", "-q", "--no-trunc").lines


def test_run_prints_both_streams_and_exits_with_the_containers_code(
    cli: Cli, image: str
) -> None:
    result = cli(
        "run", "--name", "speaker", image, "sh", "-c", "echo out; echo err >&2; exit 3"
    )

    assert result.code == 3
    assert result.lines == ["out"]
    assert result.error_lines == ["err"]
    status = cli.ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").lines
    assert len(status) == 1
    assert re.fullmatch(r"speaker Exited \(3\) .* ago", status[0]), status


def test_run_rm_leaves_nothing_and_keeps_the_exit_code(cli: Cli, image: str) -> None:
    result = cli("run", "--rm", image, "sh", "-c", "echo gone; exit 5")

    assert result.code == 5
    assert result.lines == ["gone"]
    assert all_ids(cli) == []


def test_flags_reach_the_container(cli: Cli, image: str, tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "note").write_text("from the host\n")
    script = (
        "echo $GREETING $(id -u) $(pwd) $(hostname); cat /data/note;"
        " touch /data/new 2>/dev/null || echo read-only;"
        " grep -c ' /scratch tmpfs ' /proc/mounts"
    )

    result = cli(
        "run",
        "--rm",
        *("-e", "GREETING=hi", "-u", "1000", "-w", "/tmp", "-h", "box"),
        *("-v", f"{shared}:/data:ro", "--tmpfs", "/scratch:size=64k"),
        image,
        *("sh", "-c", script),
    )

    assert result.code == 0, result.stderr
    assert result.lines == ["hi 1000 /tmp box", "from the host", "read-only", "1"]
    assert sorted(p.name for p in shared.iterdir()) == ["note"]


def test_detached_container_is_up_and_can_be_stopped_started_and_killed(
    cli: Cli, image: str
) -> None:
    started = cli.ok("run", "-d", "--name", "sleeper", image, "sleep", "1000")
    container_id = started.stdout.strip()
    assert ID_RE.fullmatch(container_id), started.stdout

    header, row = cli.ok("ps").lines
    assert header.split()[:3] == ["CONTAINER", "ID", "IMAGE"]
    assert row.startswith(container_id[:12])
    assert " Up " in row and row.endswith("sleeper")
    assert cli.ok("ps", "-q").lines == [container_id[:12]]

    assert cli.ok("stop", "-t", "1", "sleeper").lines == ["sleeper"]
    assert cli.ok("ps", "-q").lines == []
    assert cli.ok("ps", "-a", "--format", "{{.State}}").lines == ["exited"]

    assert cli.ok("start", container_id[:8]).lines == [container_id[:8]]
    assert cli.ok("ps", "--format", "{{.Status}}").lines[0].startswith("Up ")
    assert cli.ok("restart", "-t", "1", "sleeper").lines == ["sleeper"]
    assert cli.ok("ps", "--format", "{{.State}}").lines == ["running"]

    assert cli.ok("kill", "sleeper").lines == ["sleeper"]
    assert cli.ok("wait", "sleeper").lines == ["137"]
    status = cli.ok("ps", "-a", "--format", "{{.Status}}").lines[0]
    assert status.startswith("Exited (137) "), status


def test_stop_and_restart_with_s_send_that_signal_instead_of_sigterm(
    cli: Cli, image: str
) -> None:
    cli.ok("run", "-d", "--name", "usr1", image, "sh", "-c", EXITS_7_ON_USR1)
    _wait_for_log(cli, "usr1", ["ready"])

    restarted = cli("restart", "-t", "30", "-s", "USR1", "usr1")
    _wait_for_log(cli, "usr1", ["ready", "ready"])
    stopped = cli("stop", "-t", "30", "-s", "SIGUSR1", "usr1")

    assert (restarted.code, restarted.lines) == (0, ["usr1"]), restarted.stderr
    assert (stopped.code, stopped.lines) == (0, ["usr1"]), stopped.stderr
    # Neither run got SIGTERM (its trap would have logged "got TERM"); the
    # last ended through its USR1 trap (7), not SIGKILL after 30 s (137).
    assert cli.ok("inspect", "-f", "{{.State.ExitCode}}", "usr1").lines == ["7"]
    assert cli.ok("logs", "usr1").lines == ["ready", "ready"]


def test_stop_with_an_unknown_signal_is_refused_and_the_container_runs_on(
    cli: Cli, image: str
) -> None:
    cli.ok("run", "-d", "--name", "busy", image, "sleep", "1000")

    refused = cli("stop", "-s", "SIGNOPE", "busy")
    restart_refused = cli("restart", "-s", "NOPE", "busy")

    assert refused.code == restart_refused.code == 1
    assert refused.error_lines == [
        "Error: container busy: cannot stop with 'SIGNOPE': unknown signal"
    ]
    assert restart_refused.error_lines == [
        "Error: container busy: cannot stop with 'NOPE': unknown signal"
    ]
    assert cli.ok("ps", "--format", "{{.Names}} {{.State}}").lines == ["busy running"]


def _wait_for_log(cli: Cli, name: str, lines: list[str]) -> None:
    deadline = time.monotonic() + 30
    while cli.ok("logs", name).lines != lines:
        assert time.monotonic() < deadline, cli.ok("logs", name).lines
        time.sleep(0.1)


def test_interrupting_run_forwards_the_signal_to_the_container(
    cli: Cli, image: str
) -> None:
    script = 'trap "echo interrupted; exit 7" INT; echo ready;'
    script += " while :; do sleep 0.1; done"
    options = ("--log-level", "error", "--root", cli.root)
    process = subprocess.Popen(
        [SERVIN_TUI, *options, "run", "--rm", image, "sh", "-c", script],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        assert process.stdout.readline() == b"ready\n"
        process.send_signal(signal.SIGINT)
        rest, errors = process.communicate(timeout=60)
    finally:
        process.kill()

    assert process.returncode == 7, errors
    assert rest == b"interrupted\n"
    assert all_ids(cli) == []


def test_start_attach_shows_this_runs_output_and_exits_with_its_code(
    cli: Cli, image: str
) -> None:
    script = "echo run; exit 4"
    first = cli("run", "--name", "again", image, "sh", "-c", script)

    second = cli("start", "-a", "again")

    assert (first.code, first.lines) == (4, ["run"])
    assert (second.code, second.lines) == (4, ["run"])
    assert cli.ok("logs", "again").lines == ["run", "run"]


def test_rm_refuses_a_running_container_without_force(cli: Cli, image: str) -> None:
    cli.ok("run", "-d", "--name", "busy", image, "sleep", "1000")

    refused = cli("rm", "busy")
    forced = cli("container", "rm", "-f", "busy")

    assert refused.code == 1
    assert len(refused.error_lines) == 1
    assert refused.stderr.startswith("Error: container busy")
    assert "running" in refused.stderr
    assert forced.code == 0 and forced.lines == ["busy"]
    assert all_ids(cli) == []


def test_logs_follows_until_exit_and_keeps_streams_apart(cli: Cli, image: str) -> None:
    script = "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done"
    cli.ok("run", "-d", "--name", "talker", image, "sh", "-c", script)

    followed = cli("logs", "-f", "talker")
    last = cli.ok("logs", "--tail", "1", "talker")
    stamped = cli.ok("logs", "-t", "talker")

    assert followed.code == 0
    assert followed.lines == ["out1", "out2", "out3"]
    assert followed.error_lines == ["err1", "err2", "err3"]
    # The last line of the log is whichever stream conmon read last.
    assert [*last.lines, *last.error_lines] in (["out3"], ["err3"])
    assert all(
        re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z out\d", line)
        for line in stamped.lines
    ), stamped.lines


def test_inspect_shows_docker_fields_for_containers_and_images(
    cli: Cli, image: str
) -> None:
    created = cli.ok(
        "create", "--name", "shown", "-e", "A=1", "-l", "team=x", image, "true"
    )
    container_id = created.stdout.strip()

    details = json.loads(cli.ok("inspect", "shown").stdout)
    both = json.loads(cli.ok("inspect", "shown", image).stdout)
    status = cli.ok("inspect", "-f", "{{.State.Status}} {{.Name}}", "shown")
    as_image = cli("inspect", "--type", "image", "shown")

    assert len(details) == 1
    container = details[0]
    assert container["Id"] == container_id
    assert container["Name"] == "/shown"
    assert container["State"]["Status"] == "created"
    assert container["State"]["Running"] is False
    assert (container["Path"], container["Args"]) == ("true", [])
    assert "A=1" in container["Config"]["Env"]
    assert container["Config"]["Labels"]["team"] == "x"
    assert container["HostConfig"]["LogConfig"]["Type"] == "json-file"
    assert container["Image"].startswith("sha256:")
    assert [entry["Id"] for entry in both] == [container_id, container["Image"]]
    assert status.lines == ["created /shown"]
    assert as_image.code == 1 and "shown" in as_image.stderr
    assert Path(container["LogPath"]).parent.name == container_id
    assert container["GraphDriver"]["Data"]["LowerDir"]


def test_ps_filters_and_json(cli: Cli, image: str) -> None:
    cli.ok("create", "--name", "one", "-l", "tier=front", image, "true")
    cli.ok("create", "--name", "two", image, "true")

    by_label = cli.ok(
        "ps", "-a", "--filter", "label=tier=front", "--format", "{{.Names}}"
    )
    by_name = cli.ok("container", "ls", "-a", "-f", "name=tw", "--format", "{{.Names}}")
    latest = cli.ok("ps", "-l", "--format", "{{.Names}}")
    rows = [json.loads(line) for line in cli.ok("ps", "-a", "--format", "json").lines]

    assert by_label.lines == ["one"]
    assert by_name.lines == ["two"]
    assert latest.lines == ["two"]
    assert sorted(row["Names"] for row in rows) == ["one", "two"]
    assert {row["Status"] for row in rows} == {"Created"}
    assert {row["Image"] for row in rows} == {IMAGE}


def test_rename_then_prune_keeps_running_containers(cli: Cli, image: str) -> None:
    created = cli.ok("create", "--name", "old", image, "true").stdout.strip()
    write = ("dd", "if=/dev/zero", "of=/f", "bs=1k", "count=100")
    cli.ok("run", "--name", "writer", image, *write)
    running = cli.ok("run", "-d", "--name", "up", image, "sleep", "1000")
    cli.ok("rename", "old", "new")
    names = cli.ok("ps", "-a", "--format", "{{.Names}}").lines

    declined = cli("container", "prune")
    pruned = cli.ok("container", "prune", "-f")

    assert sorted(names) == ["new", "up", "writer"]
    assert declined.code == 1 and "not confirmed" in declined.stderr
    assert pruned.lines[0] == "Deleted Containers:"
    assert created in pruned.lines
    assert len(pruned.lines) == 5  # header, two IDs, a blank line, the total
    assert re.fullmatch(r"Total reclaimed space: [0-9.]+[kM]B", pruned.lines[-1])
    assert all_ids(cli) == [running.stdout.strip()]


def test_image_that_does_not_exist_fails_with_125_and_leaves_nothing(
    cli: Cli, image: str, registry: RegistryServer
) -> None:
    missing = f"{registry.host}/nothing/here:1"

    pulled = cli("run", "--rm", missing, "true")
    never = cli("run", "--pull", "never", "no-such-image", "true")

    assert pulled.code == 125
    assert "Unable to find image" in pulled.stderr
    assert pulled.error_lines[-1].startswith("Error: ")
    assert "nothing/here" in pulled.error_lines[-1]
    assert never.code == 125
    assert never.error_lines == ["Error: image no-such-image: No such image"]
    assert all_ids(cli) == []


def test_run_pulls_a_missing_image_first(
    cli: Cli, image: str, registry: RegistryServer
) -> None:
    remote = f"{registry.host}/servin-cli-run/busybox:1"
    cli.ok("tag", image, remote)
    cli.ok("push", remote)
    cli.ok("rmi", remote)
    cli.ok("rmi", image)

    result = cli("run", "--rm", remote, "echo", "pulled")

    assert result.code == 0, result.stderr
    assert result.lines == ["pulled"]
    assert "Unable to find image" in result.stderr
    assert len(cli.ok("images", "-q").lines) == 1


def test_command_not_in_the_image_exits_127(cli: Cli, image: str) -> None:
    result = cli("run", "--rm", image, "no-such-command")

    assert result.code == 127
    assert result.error_lines[-1].startswith("Error: ")
    assert "no-such-command" in result.stderr
    assert all_ids(cli) == []


def test_name_already_taken_exits_125(cli: Cli, image: str) -> None:
    first = cli.ok("create", "--name", "taken", image, "true").stdout.strip()

    result = cli("run", "--name", "taken", image, "true")

    assert result.code == 125
    assert result.error_lines == [
        f"Error: container name taken: already in use by container {first[:12]}"
    ]
    assert all_ids(cli) == [first]


def test_invalid_memory_value_exits_125_with_the_reason(cli: Cli, image: str) -> None:
    result = cli("run", "-m", "lots", image, "true")

    assert result.code == 125
    assert len(result.error_lines) == 1
    assert result.stderr.startswith("Error: --memory lots: ")
    assert all_ids(cli) == []
