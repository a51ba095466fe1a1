"""Images through the CLI, end to end: import a busybox root filesystem,
list it, tag it, inspect it, and remove it again."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cli_runner import Cli

ID_RE = re.compile(r"sha256:[0-9a-f]{64}")


@pytest.fixture
def imported(cli: Cli, busybox_rootfs_tar: Path) -> str:
    """The ID of busybox imported as ``busybox-test:1``."""
    result = cli.ok("import", busybox_rootfs_tar, "busybox-test:1")
    assert ID_RE.fullmatch(result.stdout.strip()), result.stdout
    return result.stdout.strip()


def test_import_prints_the_id_and_images_lists_it(cli: Cli, imported: str) -> None:
    table = cli.ok("images")

    header, *rows = table.lines
    assert header.split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert len(rows) == 1
    repository, tag, short_id, *created, size = rows[0].split()
    assert (repository, tag) == ("busybox-test", "1")
    assert short_id == imported.removeprefix("sha256:")[:12]
    assert created[-1] == "ago"
    assert re.fullmatch(r"[0-9.]+MB", size), size
    assert cli.ok("images", "-q").lines == [short_id]
    assert cli.ok("images", "-q", "--no-trunc").lines == [imported]


def test_columns_line_up_as_docker_aligns_them(cli: Cli, imported: str) -> None:
    header, row = cli.ok("images").lines

    for label in ("TAG", "IMAGE ID", "CREATED", "SIZE"):
        start = header.index(label)
        assert row[start - 1] == " " and row[start] != " ", (label, header, row)


def test_tag_adds_a_row_and_filters_select_rows(cli: Cli, imported: str) -> None:
    cli.ok("tag", "busybox-test:1", "example.org/team/app:v2")
    cli.ok("image", "tag", imported[7:19], "busybox-test:2")

    rows = [line.split()[:2] for line in cli.ok("images").lines[1:]]
    by_repository = [
        line.split()[:2] for line in cli.ok("images", "busybox-test").lines[1:]
    ]
    by_name = cli.ok("images", "busybox-test:2", "-q").lines
    by_full_name = cli.ok("images", "docker.io/library/busybox-test:2", "-q").lines
    by_filter = cli.ok("images", "-f", "reference=example.org/*/*", "-q").lines

    assert sorted(rows) == [
        ["busybox-test", "1"],
        ["busybox-test", "2"],
        ["example.org/team/app", "v2"],
    ]
    assert sorted(by_repository) == [["busybox-test", "1"], ["busybox-test", "2"]]
    assert by_name == by_full_name == [imported[7:19]]
    assert by_filter == [imported[7:19]]


def test_json_and_template_formats(cli: Cli, imported: str) -> None:
    as_json = cli.ok("images", "--format", "json").lines
    template = cli.ok("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}")
    table = cli.ok("images", "--format", "table {{.Repository}}\\t{{.ID}}")

    assert len(as_json) == 1
    row = json.loads(as_json[0])
    assert row["Repository"] == "busybox-test"
    assert row["Tag"] == "1"
    assert row["ID"] == imported[7:19]
    assert row["Digest"] == "<none>"
    assert row["CreatedSince"].endswith("ago")
    assert {"CreatedAt", "Size", "VirtualSize", "Containers"} <= row.keys()
    assert template.lines == [f"busybox-test:1 {imported[7:19]}"]
    assert table.lines[0].split() == ["REPOSITORY", "IMAGE", "ID"]
    assert table.lines[1].split() == ["busybox-test", imported[7:19]]


def test_unknown_template_field_is_an_error(cli: Cli, imported: str) -> None:
    result = cli("images", "--format", "{{.Colour}}")

    assert result.code == 1
    assert "Colour" in result.stderr


def test_inspect_prints_a_json_array_in_docker_shape(cli: Cli, imported: str) -> None:
    result = cli.ok("inspect", "busybox-test:1")
    by_id = cli.ok("image", "inspect", imported)
    formatted = cli.ok("inspect", "--format", "{{.Id}} {{json .RepoTags}}", imported)

    details = json.loads(result.stdout)
    assert isinstance(details, list) and len(details) == 1
    assert details[0]["Id"] == imported
    assert details[0]["RepoTags"] == ["busybox-test:1"]
    assert details[0]["Os"] == "linux"
    assert len(details[0]["RootFS"]["Layers"]) == 1
    assert json.loads(by_id.stdout) == details
    assert formatted.lines == [f'{imported} ["busybox-test:1"]']


def test_inspect_templates_print_values_as_go_does(cli: Cli, imported: str) -> None:
    result = cli.ok(
        "inspect",
        "--format",
        "{{index .RepoTags 0}}|{{.RootFS.Layers}}|{{upper .Os}}|{{.NoSuchKey}}",
        imported,
    )

    details = json.loads(cli.ok("inspect", imported).stdout)[0]
    layers = " ".join(details["RootFS"]["Layers"])
    assert result.lines == [f"busybox-test:1|[{layers}]|LINUX|<no value>"]


def test_log_level_sends_the_core_logs_to_stderr(
    cli: Cli, busybox_rootfs_tar: Path
) -> None:
    quiet = cli("import", busybox_rootfs_tar, "quiet:1")
    verbose = cli(
        "import", busybox_rootfs_tar, "loud:1", global_options=["--log-level", "debug"]
    )

    assert quiet.code == verbose.code == 0
    assert quiet.stderr == ""
    assert " DEBUG servin." in verbose.stderr
    assert verbose.lines == [verbose.stdout.strip()]


def test_inspect_prints_found_images_and_fails_for_the_rest(
    cli: Cli, imported: str
) -> None:
    result = cli("inspect", "busybox-test:1", "missing:1", "Not/A/Name")

    assert result.code == 1
    assert [d["Id"] for d in json.loads(result.stdout)] == [imported]
    assert len(result.error_lines) == 2
    assert "missing:1" in result.error_lines[0]
    assert "Not/A/Name" in result.error_lines[1]


def test_history_shows_the_import(cli: Cli, imported: str) -> None:
    result = cli.ok("history", "busybox-test:1")

    header, *rows = result.lines
    assert header.split()[:2] == ["IMAGE", "CREATED"]
    assert "CREATED BY" in header and "COMMENT" in header
    assert len(rows) == 1
    assert rows[0].startswith(imported[7:19])
    assert cli.ok("history", "-q", "busybox-test:1").lines == [imported[7:19]]


def test_rmi_untags_then_deletes(cli: Cli, imported: str) -> None:
    cli.ok("tag", "busybox-test:1", "busybox-test:2")

    first = cli.ok("rmi", "busybox-test:2")
    second = cli.ok("rmi", "busybox-test:1")

    assert first.lines == ["Untagged: busybox-test:2"]
    assert second.lines == ["Untagged: busybox-test:1", f"Deleted: {imported}"]
    assert cli.ok("images", "-q").stdout == ""
    assert cli("inspect", imported).code == 1


def test_rmi_of_several_reports_each_and_fails_for_missing(
    cli: Cli, imported: str
) -> None:
    result = cli("rmi", "missing:1", "busybox-test:1")

    assert result.code == 1
    assert "missing:1" in result.stderr
    assert f"Deleted: {imported}" in result.lines
    assert cli.ok("images", "-q").stdout == ""


def test_import_from_stdin_with_changes_and_message(
    cli: Cli, busybox_rootfs_tar: Path
) -> None:
    result = cli.ok(
        "import",
        "-c",
        'CMD ["/bin/sh", "-c", "echo hi"]',
        "-c",
        "ENV GREETING=hello",
        "-m",
        "made by a test",
        "-",
        "piped:latest",
        stdin=busybox_rootfs_tar.read_bytes(),
    )

    details = json.loads(cli.ok("inspect", "piped").stdout)[0]
    assert details["Id"] == result.stdout.strip()
    assert details["Config"]["Cmd"] == ["/bin/sh", "-c", "echo hi"]
    assert "GREETING=hello" in details["Config"]["Env"]
    assert details["Comment"] == "made by a test"


def test_untagged_import_is_dangling_and_pruned(
    cli: Cli, busybox_rootfs_tar: Path
) -> None:
    image_id = cli.ok("import", busybox_rootfs_tar).stdout.strip()

    rows = cli.ok("images").lines[1:]
    dangling = cli.ok("images", "-f", "dangling=true", "-q", "--no-trunc").lines
    pruned = cli.ok("image", "prune", "-f")

    assert rows[0].split()[:3] == ["<none>", "<none>", image_id[7:19]]
    assert dangling == [image_id]
    assert pruned.lines[0] == "Deleted Images:"
    assert f"deleted: {image_id}" in pruned.lines
    reclaimed = pruned.lines[-1]
    assert reclaimed.startswith("Total reclaimed space: ")
    assert reclaimed != "Total reclaimed space: 0B"
    assert cli.ok("images", "-q").stdout == ""


def test_prune_asks_and_honours_the_answer(cli: Cli, busybox_rootfs_tar: Path) -> None:
    cli.ok("import", busybox_rootfs_tar)

    declined = cli("image", "prune", stdin=b"n\n")
    kept = cli.ok("images", "-q").lines
    accepted = cli("image", "prune", stdin=b"y\n")

    assert declined.code == 1
    assert "[y/N]" in declined.stdout
    assert len(kept) == 1
    assert accepted.code == 0
    assert "Deleted Images:" in accepted.stdout
    assert cli.ok("images", "-q").stdout == ""


def test_import_of_a_non_tar_leaves_nothing(cli: Cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"this is not a tar archive\n" * 100)

    result = cli("import", junk, "junk:1")

    assert result.code == 1
    assert len(result.error_lines) == 1
    assert result.stderr.startswith("Error: ")
    assert cli.ok("images", "-q").stdout == ""
    stored = [p for p in (cli.root / "content").rglob("*") if p.is_file()]
    assert stored == []


def test_import_of_a_missing_file_names_it(cli: Cli, tmp_path: Path) -> None:
    result = cli("import", tmp_path / "absent.tar")

    assert result.code == 1
    assert "absent.tar" in result.stderr


def test_import_for_another_platform(cli: Cli, busybox_rootfs_tar: Path) -> None:
    cli.ok("import", "--platform", "linux/arm64/v8", busybox_rootfs_tar, "arm:1")

    details = json.loads(cli.ok("inspect", "arm:1").stdout)[0]

    assert (details["Os"], details["Architecture"]) == ("linux", "arm64")
