"""Object locks across processes: a removed object's lock file is deleted,
and whoever was waiting on it then holds a lock the others can see."""

from __future__ import annotations

import threading
from pathlib import Path

from servin_core.state.locks import forget_lock, object_lock, try_object_lock


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
