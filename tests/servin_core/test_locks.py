"""Object locks across processes: a removed object's lock file is deleted,
and whoever was waiting on it then holds a lock the others can see."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from servin_core.core import Core
from servin_core.errors import NotFound
from servin_core.network.manage import (
    create_network,
    prune_networks,
    remove_network,
    remove_network_locked,
)
from servin_core.state.locks import forget_lock, object_lock, try_object_lock
from servin_core.volumes import operations as volumes


def test_a_waiter_on_a_forgotten_lock_holds_the_lock_others_see(
    tmp_path: Path,
) -> None:
    holding = threading.Event()
    release = threading.Event()
    waiter_holds = threading.Event()
    waiter_done = threading.Event()

    def remover() -> None:
        with object_lock(tmp_path, "container", "abc"):
            holding.set()
            release.wait(10)
            forget_lock(tmp_path, "container", "abc")

    def waiter() -> None:
        holding.wait(10)
        with object_lock(tmp_path, "container", "abc"):
            waiter_holds.set()
            waiter_done.wait(10)

    threads = [threading.Thread(target=remover), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    try:
        assert holding.wait(10)
        assert not waiter_holds.wait(0.2)  # the remover has it
        release.set()
        assert waiter_holds.wait(10)
        # The waiter's lock is on the file at the path, not on the deleted
        # one: a third taker finds it held.
        with try_object_lock(tmp_path, "container", "abc") as taken:
            assert not taken
    finally:
        release.set()
        waiter_done.set()
        for thread in threads:
            thread.join(10)
    with try_object_lock(tmp_path, "container", "abc") as taken:
        assert taken


def test_forgetting_deletes_the_file_and_the_lock_can_be_taken_again(
    tmp_path: Path,
) -> None:
    with object_lock(tmp_path, "volume", "data"):
        forget_lock(tmp_path, "volume", "data")
    assert list((tmp_path / "locks").iterdir()) == []
    forget_lock(tmp_path, "volume", "data")  # nothing to delete: no error
    with object_lock(tmp_path, "volume", "data"):
        assert (tmp_path / "locks" / "volume-data").exists()


def lock_files(core: Core) -> list[str]:
    locks = core.config.run_dir / "locks"
    return sorted(os.listdir(locks)) if locks.exists() else []


async def test_removed_volumes_and_networks_leave_no_lock_file(core: Core) -> None:
    before = lock_files(core)
    volumes.create_sync(core, "data")
    volumes.create_sync(core, "pruned")
    created = create_network(core, "net")
    create_network(core, "unused")
    assert {"volume-data", "volume-pruned"} <= set(lock_files(core))

    assert volumes.remove_sync(core, "data")
    assert [name for name, _ in await volumes.prune(core, everything=True)] == [
        "pruned"
    ]
    with pytest.raises(NotFound, match="volume ghost: no such volume"):
        volumes.remove_sync(core, "ghost")
    assert not volumes.remove_sync(core, "ghost", force=True)
    remove_network(core, "net")
    assert [n.name for n in prune_networks(core)] == ["unused"]

    left = set(lock_files(core)) - set(before)
    # One lock serialises every network create; it is not per network.
    assert left == {"network-create"}
    assert f"network-{created.id}" not in left


def _wait_for_openers(path: Path, count: int) -> None:
    """Until ``count`` descriptors of this process are open on ``path``:
    a second one means the waiter is blocked on the holder's file."""
    deadline = time.monotonic() + 10
    while True:
        fds = os.listdir("/proc/self/fd")
        opened = 0
        for fd in fds:
            try:
                opened += os.readlink(f"/proc/self/fd/{fd}") == str(path)
            except FileNotFoundError:
                continue
        if opened >= count:
            return
        assert time.monotonic() < deadline, f"{opened} open on {path}"
        time.sleep(0.01)


def _race(
    core: Core,
    kind: str,
    ident: str,
    remove: Callable[[], object],
    wait: Callable[[], object],
) -> BaseException | None:
    """``remove`` under the object's lock while ``wait`` (which takes the
    same lock) waits on it; what ``wait`` raised."""
    holding = threading.Event()
    release = threading.Event()
    raised: list[BaseException] = []

    def remover() -> None:
        with object_lock(core.config.run_dir, kind, ident):
            holding.set()
            release.wait(10)
            remove()

    def waiter() -> None:
        try:
            wait()
        except BaseException as e:
            raised.append(e)

    first = threading.Thread(target=remover)
    first.start()
    assert holding.wait(10)
    second = threading.Thread(target=waiter)
    second.start()
    try:
        _wait_for_openers(core.config.run_dir / "locks" / f"{kind}-{ident}", 2)
    finally:
        release.set()
        first.join(10)
        second.join(10)
    return raised[0] if raised else None


def test_a_volume_removal_that_waited_for_another_finds_it_gone(core: Core) -> None:
    volumes.create_sync(core, "shared")

    raised = _race(
        core,
        "volume",
        "shared",
        lambda: volumes.remove_locked(core, "shared"),
        lambda: volumes.remove_sync(core, "shared"),
    )

    assert isinstance(raised, NotFound)
    assert str(raised) == "volume shared: no such volume"
    assert [f for f in lock_files(core) if f.startswith("volume-")] == []


def test_a_network_removal_that_waited_for_another_finds_it_gone(core: Core) -> None:
    network = create_network(core, "shared")

    raised = _race(
        core,
        "network",
        network.id,
        lambda: remove_network_locked(core, network),
        lambda: remove_network(core, network.id),
    )

    assert isinstance(raised, NotFound)
    assert str(raised) == "network shared: No such network"
    assert f"network-{network.id}" not in lock_files(core)
    assert core.networks.find("shared") is None
