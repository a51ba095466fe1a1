"""More of the docker CLI through Servin's socket: terminals, followed logs,
events, stats, cp, published ports and bind mounts."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path

from api_daemon import DOCKER, Daemon
from registry_fixtures import free_port


def in_terminal(daemon: Daemon, command: str) -> str:
    """``command`` (docker ... words) on a pseudo-terminal of 30 rows and 100
    columns, through util-linux ``script``; what the terminal showed."""
    shell = f"stty rows 30 cols 100; {command}"
    done = subprocess.run(
        ["script", "-qec", shell, "/dev/null"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        env=daemon.env,
        timeout=120,
    )
    return done.stdout.decode(errors="replace")


def test_run_it_and_exec_it_get_a_terminal_of_the_clients_size(
    daemon: Daemon, busybox: str
) -> None:
    daemon.docker_ok("run", "-d", "--name", "box", busybox, "sleep", "300")

    ran = in_terminal(daemon, f"{DOCKER} run --rm -it {busybox} sh -c 'stty size; tty'")
    executed = in_terminal(daemon, f"{DOCKER} exec -it box sh -c 'stty size; tty'")

    for shown in (ran, executed):
        assert "30 100" in shown
        assert "/dev/pts/" in shown


def test_logs_follow_sends_lines_as_they_come_and_ends_at_exit(
    daemon: Daemon, busybox: str
) -> None:
    daemon.docker_ok(
        "run", "-d", "--name", "talker", busybox,
        "sh", "-c", "echo first; sleep 2; echo second",
    )  # fmt: skip

    followed = daemon.docker("logs", "-f", "talker")
    stamped = daemon.docker_ok("logs", "-t", "--tail", "1", "talker")

    assert followed.returncode == 0
    assert followed.stdout == "first\nsecond\n"
    assert stamped.endswith(" second\n")
    assert stamped.startswith(time.strftime("%Y-", time.gmtime()))


def test_events_report_what_happened_in_order(daemon: Daemon, busybox: str) -> None:
    since = str(int(time.time()) - 1)
    daemon.docker_ok("run", "--name", "eventful", busybox, "true")
    daemon.docker_ok("rm", "eventful")
    until = str(int(time.time()) + 1)

    shown = daemon.docker_ok(
        "events", "--since", since, "--until", until,
        "--filter", "type=container",
        "--format", "{{.Action}} {{.Actor.Attributes.name}}",
    )  # fmt: skip

    actions = [line.split()[0] for line in shown.splitlines()]
    assert actions[0] == "create"
    assert "start" in actions and "die" in actions
    assert actions[-1] in ("destroy", "remove", "delete")
    assert "create eventful" in shown


def test_stats_no_stream_shows_the_running_container(
    daemon: Daemon, busybox: str
) -> None:
    ident = daemon.docker_ok("run", "-d", "--name", "busy", busybox, "sleep", "300")
    # Traffic on its network, and a container with none that pings itself.
    gateway = "$(ip route | awk '/^default/ {print $3}')"
    daemon.docker_ok(
        "run", "-d", "--name", "pinger", busybox,
        "sh", "-c", f"ping -c 3 -i 0.2 {gateway}; exec sleep 300",
    )  # fmt: skip
    daemon.docker_ok(
        "run", "-d", "--name", "alone", "--network", "none", busybox,
        "sh", "-c", "ping -c 3 -i 0.2 127.0.0.1; exec sleep 300",
    )  # fmt: skip
    _wait_for_log_lines(daemon, "pinger", "packet loss")
    _wait_for_log_lines(daemon, "alone", "packet loss")

    networks = daemon.docker_ok("ps", "--format", "{{.Names}} {{.Networks}}")
    shown = daemon.docker_ok(
        "stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}} {{.NetIO}}"
    )
    rows = {line.split()[0]: line.split()[1:] for line in shown.splitlines()}

    assert rows["busy"][0] == "1"
    assert rows["alone"][1:] == ["0B", "/", "0B"]
    assert "alone none" in networks.splitlines(), networks
    received, _, sent = rows["pinger"][1:]
    assert received != "0B" and sent != "0B", shown
    listed = daemon.docker_ok("stats", "--no-stream", "--format", "{{.ID}}")
    assert ident[:12] in listed.split()


def _wait_for_log_lines(daemon: Daemon, name: str, text: str) -> None:
    deadline = time.monotonic() + 30
    while text not in daemon.docker_ok("logs", name):
        assert time.monotonic() < deadline, daemon.docker_ok("logs", name)
        time.sleep(0.1)


def test_cp_both_ways(daemon: Daemon, busybox: str, tmp_path: Path) -> None:
    daemon.docker_ok("run", "-d", "--name", "files", busybox, "sleep", "300")
    source = tmp_path / "greeting.txt"
    source.write_text("hello from the host\n")

    into = daemon.docker("cp", str(source), "files:/tmp/")
    inside = daemon.docker_ok("exec", "files", "cat", "/tmp/greeting.txt")
    out = daemon.docker("cp", "files:/etc/hostname", str(tmp_path / "hostname"))
    missing = daemon.docker("cp", "files:/no/such/file", str(tmp_path / "x"))

    assert into.returncode == 0, into.stderr
    assert inside == "hello from the host\n"
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "hostname").read_text().strip()
    assert missing.returncode != 0
    assert "/no/such/file" in missing.stderr


def test_published_port_and_bind_mount(
    daemon: Daemon, busybox: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("served by servin\n")
    port = free_port()

    daemon.docker_ok(
        "run", "-d", "--name", "web", "-p", f"127.0.0.1:{port}:80",
        "-v", f"{site}:/www:ro", busybox, "httpd", "-f", "-p", "80", "-h", "/www",
    )  # fmt: skip
    chosen = daemon.docker_ok("run", "-d", "-p", "80", busybox, "sleep", "300")
    ports = json.loads(
        daemon.docker_ok(
            "inspect", "--format", "{{json .NetworkSettings.Ports}}", chosen.strip()
        )
    )
    body = _fetch(f"http://127.0.0.1:{port}/index.html")

    assert body == "served by servin\n"
    assert int(ports["80/tcp"][0]["HostPort"]) > 0


def _fetch(url: str) -> str:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                return str(reply.read().decode())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_docker_words_in_shlex_survive(daemon: Daemon, busybox: str) -> None:
    """Arguments with spaces and quotes reach the container as given."""
    words = ["printf", "%s|", "two words", "it's"]

    shown = daemon.docker_ok("run", "--rm", busybox, *words)

    assert shown == "two words|it's|"


def test_networks_create_ls_connect_rm(daemon: Daemon, busybox: str) -> None:
    made = daemon.docker("network", "create", "backend")
    daemon.docker_ok("run", "-d", "--name", "db", "--network", "backend", busybox,
                     "sleep", "300")  # fmt: skip
    daemon.docker_ok("run", "-d", "--name", "app", busybox, "sleep", "300")
    connected = daemon.docker("network", "connect", "backend", "app")
    address = daemon.docker_ok(
        "inspect", "--format", "{{.NetworkSettings.Networks.backend.IPAddress}}", "db"
    ).strip()
    reached = daemon.docker("exec", "app", "ping", "-c", "1", "-W", "5", address)
    listed = daemon.docker_ok("network", "ls", "--format", "{{.Name}}").split()
    busy = daemon.docker("network", "rm", "backend")
    daemon.docker_ok("rm", "-f", "db", "app")
    removed = daemon.docker("network", "rm", "backend")

    assert made.returncode == 0, made.stderr
    assert connected.returncode == 0, connected.stderr
    assert reached.returncode == 0, reached.stdout + reached.stderr
    assert "backend" in listed
    assert busy.returncode == 1
    assert removed.returncode == 0, removed.stderr
    assert "backend" not in daemon.docker_ok("network", "ls", "--format", "{{.Name}}")


def test_volumes_create_ls_use_rm(daemon: Daemon, busybox: str) -> None:
    daemon.docker_ok("volume", "create", "--label", "team=api", "keep")
    daemon.docker_ok(
        "run", "--rm", "-v", "keep:/data", busybox, "sh", "-c", "echo kept > /data/f"
    )

    read = daemon.docker_ok(
        "run", "--rm", "-v", "keep:/data", busybox, "cat", "/data/f"
    )
    listed = daemon.docker_ok("volume", "ls", "--filter", "label=team=api", "-q")
    removed = daemon.docker("volume", "rm", "keep")
    missing = daemon.docker("volume", "inspect", "keep")

    assert read == "kept\n"
    assert listed.split() == ["keep"]
    assert removed.returncode == 0, removed.stderr
    assert missing.returncode == 1


def test_run_with_a_log_size_limit_and_added_groups(
    daemon: Daemon, busybox: str
) -> None:
    chatty = (
        "id -G; i=0; while [ $i -lt 3000 ]; do echo line-$i-padding-padding-padding;"
        " i=$((i+1)); done; sleep 30"
    )
    daemon.docker_ok(
        "run", "-d", "--name", "chatty", "--log-opt", "max-size=16k",
        "--group-add", "4242", "--group-add", "nogroup", busybox, "sh", "-c", chatty,
    )  # fmt: skip
    last = "line-2999-padding-padding-padding"
    deadline = time.monotonic() + 60
    logs = daemon.docker_ok("logs", "chatty").splitlines()
    while last not in logs and time.monotonic() < deadline:
        time.sleep(0.2)
        logs = daemon.docker_ok("logs", "chatty").splitlines()
    host = json.loads(daemon.docker_ok("inspect", "chatty"))[0]["HostConfig"]
    grouped = daemon.docker(
        "run", "--rm", "--group-add", "4242", "--group-add", "nogroup", busybox,
        "id", "-G",
    )  # fmt: skip
    refused = daemon.docker("run", "--log-opt", "max-file=3", busybox, "true")
    driver = daemon.docker("run", "--log-driver", "journald", busybox, "true")

    assert logs[-1] == last
    assert "line-0-padding-padding-padding" not in logs
    assert host["LogConfig"] == {"Type": "json-file", "Config": {"max-size": "16000"}}
    assert host["GroupAdd"] == ["4242", "nogroup"]
    assert sorted(grouped.stdout.split()) == ["0", "4242", "65534"], grouped.stderr
    assert refused.returncode == 125
    assert (
        "field HostConfig.LogConfig.Config: max-file=3: conmon keeps one log file"
        in refused.stderr
    )
    assert driver.returncode == 125
    assert "the journald log driver is not supported" in driver.stderr
    assert daemon.docker_ok("ps", "-aq").split() == [
        daemon.docker_ok("inspect", "-f", "{{.Id}}", "chatty").strip()[:12]
    ]
