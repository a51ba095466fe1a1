"""The Images panel of the application, driven from the keyboard against a
real core: what it lists, what it follows, what its keys change."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_harness import make_app, root_config, until
from registry_fixtures import RegistryServer, unique_repo

from servin_core.config import Config
from servin_core.core import Core
from servin_core.images.importer import import_image
from servin_core.images.pull import pull
from servin_core.images.push import push
from servin_tui.app.help import HelpScreen
from servin_tui.app.images import ImagesPanel
from servin_tui.app.transfer import LayerProgress, TransferDialog

SERVIN_TUI = Path(sys.executable).parent / "servin-tui"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return root_config(tmp_path / "root")


@pytest.fixture
def core(config: Config) -> Iterator[Core]:
    with Core.open(config) as core:
        yield core


async def imported(core: Core, rootfs: Path, name: str) -> str:
    with rootfs.open("rb") as source:
        image = await import_image(core, source, name)
    return image.id


def shown(panel: ImagesPanel) -> list[tuple[str, ...]]:
    """The rows on screen, top to bottom, without the mark column."""
    table = panel.table
    return [
        tuple(c.plain for c in table.get_row(key)[1:]) for key in table.visible_keys()
    ]


async def test_lists_the_images_that_exist(
    core: Core, config: Config, busybox_rootfs_tar: Path
) -> None:
    image_id = await imported(core, busybox_rootfs_tar, "busybox:1.36")
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count, "a row")

        [(repository, tag, short_id, created, size)] = shown(panel)
        assert (repository, tag) == ("busybox", "1.36")
        assert short_id == image_id.removeprefix("sha256:")[:12]
        assert created.endswith("ago")
        assert size.endswith("MB")


async def test_another_process_import_appears_without_a_key(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    await imported(core, busybox_rootfs_tar, "first:1")
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the first image")
        await pilot.press("space")
        [marked] = panel.table.marks

        subprocess.run(
            [
                SERVIN_TUI,
                "--root",
                config.data_dir,
                "import",
                busybox_rootfs_tar,
                "second:2",
            ],
            check=True,
            capture_output=True,
        )

        await until(pilot, lambda: panel.table.row_count == 2, "the second image")
        assert {row[:2] for row in shown(panel)} == {("first", "1"), ("second", "2")}
        # The new row came in above or below: the cursor and the mark
        # stayed on the row they were on.
        current = panel.table.current()
        assert current is not None and current.cells[:2] == ("first", "1")
        assert panel.table.marks == {marked}
        assert panel.table.get_row(marked)[0].plain == "*"


async def test_filter_narrows_the_list_as_you_type(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    await imported(core, busybox_rootfs_tar, "alpha:1")
    await imported(core, busybox_rootfs_tar, "zulu:1")
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 2, "two images")

        # Letters that no hexadecimal image ID can hold, so only the name
        # can match.
        await pilot.press("slash", "z", "u")
        await until(pilot, lambda: panel.table.row_count == 1, "one row left")
        assert [row[0] for row in shown(panel)] == ["zulu"]

        await pilot.press("escape")
        await until(pilot, lambda: panel.table.row_count == 2, "both rows again")


async def test_remove_from_the_keyboard_asks_then_removes_the_image(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    await imported(core, busybox_rootfs_tar, "doomed:1")
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the image")

        await pilot.press("d")
        await pilot.press("n")
        await pilot.pause()
        assert [i.tags for i in core.images.list()] == [("docker.io/library/doomed:1",)]

        await pilot.press("d")
        await pilot.press("y")
        await until(pilot, lambda: not core.images.list(), "the image removed")
        await until(pilot, lambda: panel.table.row_count == 0, "the row gone")
        assert "No images" in str(panel.query_one(".empty").render())


async def test_pull_from_the_dialog_pulls_the_image(
    tmp_path: Path,
    config: Config,
    core: Core,
    registry: RegistryServer,
    busybox_rootfs_tar: Path,
) -> None:
    name = f"{registry.host}/{unique_repo()}:v1"
    with Core.open(root_config(tmp_path / "pusher")) as pusher:
        pushed_id = await imported(pusher, busybox_rootfs_tar, name)
        await push(pusher, name)
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, TransferDialog), "dialog")
        dialog = app.screen
        assert isinstance(dialog, TransferDialog)
        await pilot.press(*name, "enter")

        await until(pilot, lambda: dialog.done, "the pull finished")
        bars = [(row.digest, row.action) for row in dialog.query(LayerProgress)]
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is not dialog, "the dialog closed")
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the pulled image")

    [image] = core.images.list()
    assert image.id == pushed_id
    assert image.tags == (name,)
    # One bar per layer, each finished.
    assert {digest for digest, _ in bars} >= {layer.digest for layer in image.layers}
    assert all(
        action == "complete"
        for digest, action in bars
        if digest in {layer.digest for layer in image.layers}
    )


async def test_tag_from_the_keyboard_adds_a_row(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    image_id = await imported(core, busybox_rootfs_tar, "base:1")
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the image")

        await pilot.press("t", *"mine/base:2", "enter")
        await until(pilot, lambda: panel.table.row_count == 2, "the new name")

        assert ("mine/base", "2") in {row[:2] for row in shown(panel)}
        assert set(core.images.get(image_id).tags) == {
            "docker.io/library/base:1",
            "docker.io/mine/base:2",
        }


async def test_push_from_the_dialog_pushes_the_selected_image(
    tmp_path: Path,
    config: Config,
    core: Core,
    registry: RegistryServer,
    busybox_rootfs_tar: Path,
) -> None:
    name = f"{registry.host}/{unique_repo()}:v2"
    image_id = await imported(core, busybox_rootfs_tar, name)
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the image")
        await pilot.press("P")
        await until(pilot, lambda: isinstance(app.screen, TransferDialog), "dialog")
        dialog = app.screen
        assert isinstance(dialog, TransferDialog)
        # The dialog offers the selected image's name: Enter pushes it.
        await pilot.press("enter")
        await until(pilot, lambda: dialog.done, "the push finished")
        await pilot.press("enter")

    with Core.open(root_config(tmp_path / "other")) as other:
        pulled = await pull(other, name)
    assert pulled.id == image_id


async def test_prune_asks_then_removes_dangling_images(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    with busybox_rootfs_tar.open("rb") as source:
        dangling = await import_image(core, source, None, changes=["ENV A=1"])
    await imported(core, busybox_rootfs_tar, "kept:1")
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 2, "both images")
        assert ("<none>", "<none>") in {row[:2] for row in shown(panel)}

        await pilot.press("x", "y")
        await until(pilot, lambda: panel.table.row_count == 1, "the dangling gone")

    assert [image.tags for image in core.images.list()] == [
        ("docker.io/library/kept:1",)
    ]
    assert dangling.id not in {image.id for image in core.images.list()}


async def test_help_lists_the_keys_of_the_panel(config: Config) -> None:
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        sections = dict(app.screen.sections)  # type: ignore[attr-defined]
        assert ("p", "Pull") in sections["This panel"]
        assert ("d", "Remove") in sections["This panel"]
        assert ("/", "Filter") in sections["This panel"]
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen), "closed")


async def test_a_core_error_becomes_a_notification(
    config: Config, core: Core, busybox_rootfs_tar: Path
) -> None:
    await imported(core, busybox_rootfs_tar, "named:1")
    app = make_app(config, start_panel="images")

    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(ImagesPanel)
        await until(pilot, lambda: panel.table.row_count == 1, "the image")

        await pilot.press("t", *"Not A Valid Name", "enter")
        await until(pilot, lambda: app.shown, "a notification")

        [(severity, title, message)] = app.shown
        assert severity == "error"
        assert title == "tag failed"
        assert "Not A Valid Name" in message
        # Still running, and nothing changed.
        assert app.is_running
        assert [i.tags for i in core.images.list()] == [("docker.io/library/named:1",)]
