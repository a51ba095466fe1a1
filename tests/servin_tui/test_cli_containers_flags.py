"""docker's ``create``/``run`` flags turned into a ContainerConfig, and the
errors a user gets for values that make no sense."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from servin_core.errors import InvalidArgument
from servin_tui.cli.containers_flags import (
    CreateRequest,
    add_create_flags,
    build_request,
)


def request(*argv: str, environ: dict[str, str] | None = None) -> CreateRequest:
    parser = argparse.ArgumentParser()
    add_create_flags(parser)
    return build_request(parser.parse_args(argv), environ or {})


def test_image_command_and_arguments_stop_flag_parsing() -> None:
    plain = request("busybox")
    with_command = request("--name", "web", "busybox", "sh", "-c", "echo -e x", "-d")

    assert plain.config.image == "busybox"
    assert plain.config.cmd is None
    assert plain.name is None
    assert (plain.pull, plain.platform) == ("missing", None)
    assert with_command.config.cmd == ["sh", "-c", "echo -e x", "-d"]
    assert with_command.name == "web"


def test_short_h_is_the_host_name_and_help_stays_long() -> None:
    parser = argparse.ArgumentParser()
    add_create_flags(parser)

    assert parser.parse_args(["-h", "box", "busybox"]).hostname == "box"
    assert "--help" in parser.format_help()


def test_environment_from_flags_files_and_this_process(tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text("# comment\n\nA=1\nFROM_HOST\nMISSING\nB=x=y\n")

    config = request(
        "--env-file",
        str(env_file),
        "-e",
        "C=3",
        "-e",
        "HOME",
        "-e",
        "UNSET",
        "busybox",
        environ={"FROM_HOST": "h", "HOME": "/root"},
    ).config

    assert config.env == ["A=1", "FROM_HOST=h", "B=x=y", "C=3", "HOME=/root"]


def test_missing_env_file_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match=r"--env-file .*nothere"):
        request("--env-file", str(tmp_path / "nothere"), "busybox")


def test_identity_process_and_security_flags() -> None:
    config = request(
        *("-u", "1000:1000", "-w", "/srv", "-h", "box", "-l", "a=1", "-l", "b"),
        *("-t", "-i", "--rm", "--init", "--read-only", "--privileged"),
        *("--cap-add", "NET_ADMIN", "--cap-drop", "ALL"),
        *("--security-opt", "no-new-privileges", "--stop-signal", "term"),
        *("--stop-timeout", "3", "--runtime", "runc", "--entrypoint", "/bin/sh"),
        "busybox",
    ).config

    assert (config.user, config.workdir, config.hostname) == (
        "1000:1000",
        "/srv",
        "box",
    )
    assert config.labels == {"a": "1", "b": ""}
    assert (config.tty, config.open_stdin, config.auto_remove) == (True, True, True)
    assert (config.init, config.read_only, config.privileged) == (True, True, True)
    assert (config.cap_add, config.cap_drop) == (["NET_ADMIN"], ["ALL"])
    assert config.security_opt == ["no-new-privileges"]
    assert (config.stop_signal, config.stop_timeout) == ("SIGTERM", 3)
    assert config.runtime == "runc"
    assert config.entrypoint == ["/bin/sh"]


def test_empty_entrypoint_clears_the_images() -> None:
    assert request("--entrypoint", "", "busybox").config.entrypoint == []
    assert request("busybox").config.entrypoint is None


def test_resource_flags_in_docker_units() -> None:
    resources = request(
        *("-m", "512m", "--memory-swap", "1g", "--cpus", "1.5"),
        *("--cpu-shares", "512", "--pids-limit", "100", "--shm-size", "128m"),
        *("--ulimit", "nofile=1024:2048", "--device", "/dev/fuse"),
        *("--sysctl", "net.ipv4.ip_forward=1"),
        "busybox",
    ).config.resources

    assert resources.memory == 512 * 1024**2
    assert resources.memory_swap == 1024**3
    assert resources.nano_cpus == 1_500_000_000
    assert (resources.cpu_shares, resources.pids_limit) == (512, 100)
    assert resources.shm_size == 128 * 1024**2
    assert [(u.name, u.soft, u.hard) for u in resources.ulimits] == [
        ("nofile", 1024, 2048)
    ]
    assert [d.host_path for d in resources.devices] == ["/dev/fuse"]
    assert resources.sysctls == {"net.ipv4.ip_forward": "1"}
    assert request("--pids-limit", "-1", "busybox").config.resources.pids_limit is None


def test_log_size_limit_and_added_groups() -> None:
    config = request(
        *("--log-opt", "max-size=1m", "--log-opt", "max-size=20k"),
        *("--group-add", "4242", "--group-add", "nogroup"),
        "busybox",
    ).config

    assert config.log_max_size == 20_000  # the last one wins; 1000s, as in docker
    assert config.group_add == ["4242", "nogroup"]
    assert request("busybox").config.log_max_size is None


def test_unlimited_swap() -> None:
    config = request("-m", "64m", "--memory-swap", "-1", "busybox").config

    assert config.resources.memory_swap == -1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-m", "lots"], "--memory lots"),
        (["-m", "1k"], "the minimum is 6MiB"),
        (["--memory-swap", "1g"], "needs a memory limit"),
        (["-m", "1g", "--memory-swap", "512m"], "at least the memory limit"),
        (["--shm-size", "big"], "--shm-size big"),
        (["--restart", "sometimes"], "restart policy sometimes"),
        (["--rm", "--restart", "always"], "conflicts with --rm"),
        (["-w", "relative"], "--workdir relative: must be an absolute path"),
        (["--name", "bad name"], "container name bad name"),
        (["--stop-signal", "SIGNOPE"], "--stop-signal SIGNOPE"),
        (["--sysctl", "kernel.x"], "expected KEY=VALUE"),
        (["-e", "=x"], "the name is empty"),
        (["--cpu-shares", "many"], "--cpu-shares many: not a whole number"),
        (["--pids-limit", "1.5"], "--pids-limit 1.5: not a whole number"),
        (["--pull", "sometimes"], "--pull sometimes: expected missing"),
        (["-v", "data/x:/x"], "volume data/x:/x: 'data/x' is a relative host path"),
        (
            ["--mount", "type=volume,src=a/b,dst=/x"],
            "invalid volume name 'a/b': it has a slash",
        ),
        (["--mount", "type=bind,src=rel,dst=/x"], "'rel' is not an absolute path"),
        (["--mount", "type=tmpfs,dst=/x,colour=red"], "unknown field 'colour'"),
        (["--log-opt", "bogus"], "--log-opt bogus: expected KEY=VALUE"),
        (
            ["--log-opt", "max-file=3"],
            "--log-opt max-file=3: conmon keeps one log file per container",
        ),
        (["--log-opt", "mode=non-blocking"], "mode=non-blocking: unknown option"),
        (["--log-opt", "max-size=big"], "--log-opt max-size=big: expected a number"),
        (["--log-opt", "max-size=0"], "max-size=0: the minimum is 8238 bytes"),
        (["--log-opt", "max-size=8k"], "max-size=8k: the minimum is 8238 bytes"),
        (["--log-opt", "max-size=9000000p"], "too large for conmon"),
        (["--group-add", ""], "--group-add '': the group is empty"),
    ],
)
def test_bad_values_name_the_flag_and_the_reason(argv: list[str], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        request(*argv, "busybox")
