"""The run dialog's fields read with the CLI's parsers: what the CLI
accepts reaches the container's configuration, and each bad field is
reported on its own, all at once."""

from __future__ import annotations

from servin_tui.app.run_form import parse_form


def test_ports_network_and_volumes_pass_through_the_cli_parsers() -> None:
    request, errors = parse_form(
        {
            "image": "busybox",
            "ports": "8080:80 127.0.0.1:5353:53/udp",
            "network": "backend",
            "volumes": "data:/data /srv:/srv:ro",
        }
    )

    assert errors == {}
    assert request is not None
    config = request.config
    assert config.publish == ["8080:80", "127.0.0.1:5353:53/udp"]
    assert config.network == "backend"
    assert [(m.type, m.source, m.target, m.read_only) for m in config.mounts] == [
        ("volume", "data", "/data", False),
        ("bind", "/srv", "/srv", True),
    ]


def test_every_bad_field_is_reported_under_its_own_name() -> None:
    request, errors = parse_form(
        {
            "image": "busybox",
            "command": "sh -c 'echo unclosed",
            "ports": "99999:80",
            "memory": "lots",
            "cpus": "-1",
            "restart": "sometimes",
            "env": "=novalue",
        }
    )

    assert request is None
    assert errors.keys() == {"command", "ports", "memory", "cpus", "restart", "env"}
    assert "99999" in errors["ports"]
    assert errors["memory"].startswith("--memory lots:")
    assert "sometimes" in errors["restart"]


def test_an_image_is_needed_and_checked() -> None:
    assert parse_form({"image": ""})[1] == {"image": "an image is needed"}
    assert "lowercase" in parse_form({"image": "Busybox"})[1]["image"]
