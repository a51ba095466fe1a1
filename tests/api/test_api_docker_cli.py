"""The real docker CLI 28 against Servin's socket: the commands people type."""

from __future__ import annotations

import json
import time

from api_daemon import Daemon
from registry_fixtures import RegistryServer, unique_repo
from shell_scripts import EXITS_7_ON_USR1


def test_pull_from_a_registry_then_images_lists_it(
    daemon: Daemon, busybox: str, registry: RegistryServer
) -> None:
    remote = f"{registry.host}/{unique_repo('api')}/busybox:1"
    daemon.servin_ok("tag", busybox, remote)
    daemon.servin_ok("push", remote)
    daemon.servin_ok("rmi", remote)

    pulled = daemon.docker("pull", remote)
    listed = daemon.docker_ok("images", "--format", "{{.Repository}}:{{.Tag}}")
    again = daemon.docker_ok("pull", remote)

    assert pulled.returncode == 0, pulled.stderr
    assert "Downloaded newer image" in pulled.stdout
    assert "Digest: sha256:" in pulled.stdout
    assert remote in listed.split()
    assert "Image is up to date" in again


def test_pull_of_a_missing_image_fails_with_the_registrys_reason(
    daemon: Daemon, registry: RegistryServer
) -> None:
    missing = f"{registry.host}/nothing/here:1"

    pulled = daemon.docker("pull", missing)

    assert pulled.returncode != 0
    assert "nothing/here" in pulled.stderr
    assert daemon.docker_ok("images", "-q") == ""


def test_run_rm_prints_the_output_and_leaves_nothing(
    daemon: Daemon, busybox: str
) -> None:
    ran = daemon.docker("run", "--rm", busybox, "echo", "hi")

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "hi\n"
    assert daemon.docker_ok("ps", "-aq") == ""


def test_run_exits_with_the_containers_status_and_keeps_streams_apart(
    daemon: Daemon, busybox: str
) -> None:
    ran = daemon.docker(
        "run",
        "--name",
        "speaker",
        busybox,
        "sh",
        "-c",
        "echo out; echo err >&2; exit 3",
    )
    state = daemon.docker_ok("inspect", "--format", "{{.State.ExitCode}}", "speaker")

    assert ran.returncode == 3
    assert ran.stdout == "out\n"
    assert ran.stderr == "err\n"
    assert state.strip() == "3"


def test_run_i_sends_piped_stdin_and_all_output_arrives(
    daemon: Daemon, busybox: str
) -> None:
    lines = b"".join(b"line %d\n" % n for n in range(2000))

    ran = daemon.docker(
        "run", "--rm", "-i", busybox, "sh", "-c", "cat; echo done", stdin=lines
    )

    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == lines.decode() + "done\n"


def test_detached_container_ps_logs_exec_stop_rm(daemon: Daemon, busybox: str) -> None:
    ident = daemon.docker_ok(
        "run", "-d", "--name", "web", "-e", "GREETING=hello", busybox,
        "sh", "-c", "echo started; echo problem >&2; exec sleep 300",
    ).strip()  # fmt: skip

    listed = daemon.docker_ok("ps", "--format", "{{.ID}} {{.Names}} {{.Status}}")
    logs = daemon.docker("logs", "web")
    executed = daemon.docker("exec", "web", "sh", "-c", "echo $GREETING; exit 5")
    piped = daemon.docker("exec", "-i", "web", "cat", stdin=b"through exec\n")
    inspected = json.loads(daemon.docker_ok("inspect", "web"))[0]
    stopped = daemon.docker("stop", "-t", "1", "web")
    after_stop = daemon.docker_ok("ps", "-a", "--format", "{{.Status}}")
    removed = daemon.docker("rm", "web")

    assert listed.split()[:3] == [ident[:12], "web", "Up"]
    assert logs.stdout == "started\n"
    assert logs.stderr == "problem\n"
    assert executed.returncode == 5
    assert executed.stdout == "hello\n"
    assert piped.stdout == "through exec\n"
    assert inspected["Id"] == ident
    assert inspected["State"]["Running"] is True
    assert inspected["HostConfig"]["LogConfig"]["Type"] == "json-file"
    assert stopped.returncode == 0 and stopped.stdout.strip() == "web"
    assert after_stop.startswith("Exited (")
    assert removed.returncode == 0
    assert daemon.docker_ok("ps", "-aq") == ""


def test_stop_and_restart_s_send_that_signal_and_refuse_an_unknown_one(
    daemon: Daemon, busybox: str
) -> None:
    daemon.docker_ok(
        "run", "-d", "--name", "usr1", busybox, "sh", "-c", EXITS_7_ON_USR1
    )
    _wait_for_logs(daemon, "usr1", "ready\n")

    refused = daemon.docker("stop", "-s", "SIGNOPE", "usr1")
    still = daemon.docker_ok("inspect", "-f", "{{.State.Status}}", "usr1")
    restarted = daemon.docker("restart", "-t", "30", "-s", "USR1", "usr1")
    _wait_for_logs(daemon, "usr1", "ready\nready\n")
    stopped = daemon.docker("stop", "-t", "30", "-s", "SIGUSR1", "usr1")

    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "Error response from daemon:"
        " container usr1: cannot stop with 'SIGNOPE': unknown signal"
    )
    assert still.strip() == "running"
    assert restarted.returncode == 0, restarted.stderr
    assert stopped.returncode == 0, stopped.stderr
    # Neither run got SIGTERM (its trap would have logged "got TERM"); the
    # last ended through its USR1 trap (7), not SIGKILL after 30 s (137).
    code = daemon.docker_ok("inspect", "-f", "{{.State.ExitCode}}", "usr1")
    assert code.strip() == "7"
    assert daemon.docker_ok("logs", "usr1") == "ready\nready\n"


def _wait_for_logs(daemon: Daemon, name: str, expected: str) -> None:
    deadline = time.monotonic() + 30
    while (seen := daemon.docker_ok("logs", name)) != expected:
        assert time.monotonic() < deadline, seen
        time.sleep(0.1)


def test_missing_container_is_reported_as_docker_words_it(daemon: Daemon) -> None:
    inspected = daemon.docker("inspect", "--type", "container", "ghost")
    stopped = daemon.docker("stop", "ghost")

    assert inspected.returncode == stopped.returncode == 1
    assert "No such container: ghost" in inspected.stderr
    assert stopped.stderr.strip().splitlines() == [
        "Error response from daemon: No such container: ghost"
    ]


def test_commands_that_cannot_run_exit_as_docker_says(
    daemon: Daemon, busybox: str
) -> None:
    missing = daemon.docker("run", "--rm", busybox, "no-such-command")
    not_executable = daemon.docker("run", "--rm", busybox, "/etc/passwd")
    daemon.docker_ok("run", "-d", "--name", "up", busybox, "sleep", "300")
    exec_missing = daemon.docker("exec", "up", "no-such-command")

    assert missing.returncode == 127
    assert "no-such-command" in missing.stderr
    assert not_executable.returncode == 126
    assert exec_missing.returncode == 127
    assert "no-such-command" in exec_missing.stderr + exec_missing.stdout
    assert daemon.docker_ok("ps", "-aq").split() == [
        daemon.docker_ok("inspect", "-f", "{{.Id}}", "up").strip()[:12]
    ]
