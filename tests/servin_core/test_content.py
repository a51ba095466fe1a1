import os
from pathlib import Path

import pytest

from servin_core.errors import InvalidArgument
from servin_core.images.content import ContentStore, digest_of


def test_a_blob_is_stored_under_its_digest(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    digest = store.put(b"hello")
    assert digest == digest_of(b"hello")
    assert store.read(digest) == b"hello"
    assert list(store.digests()) == [digest]


def test_a_blob_whose_digest_does_not_match_is_never_stored(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    wrong = digest_of(b"something else")
    with pytest.raises(InvalidArgument, match="digest mismatch"):
        store.put(b"hello", wrong)
    assert list(store.digests()) == []
    assert os.listdir(store.ingest_dir) == []


def test_a_truncated_blob_is_never_stored(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    writer = store.writer(digest_of(b"hello"), expected_size=5)
    writer.write(b"hel")
    with pytest.raises(InvalidArgument, match="truncated: got 3 of 5 bytes"):
        writer.commit()
    assert list(store.digests()) == []
    assert os.listdir(store.ingest_dir) == []


def test_partial_writes_of_dead_processes_are_removed(tmp_path: Path) -> None:
    store = ContentStore(tmp_path)
    # A pid that cannot exist names a dead owner.
    (store.ingest_dir / "4194304.1-deadbeef").write_bytes(b"partial")
    live = store.writer()
    live.write(b"in progress")
    assert store.remove_stale_ingests() == 1
    assert os.listdir(store.ingest_dir) == [live.temp_path.name]
    live.abort()
