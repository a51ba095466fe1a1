import sqlite3
import subprocess
import sys
from pathlib import Path

from servin_core.state.db import Database
from servin_core.state.migrations import MIGRATIONS


def test_a_new_store_is_migrated_to_the_newest_schema(tmp_path: Path) -> None:
    db = Database(tmp_path / "servin.db")
    assert db.schema_version == len(MIGRATIONS)
    mode = db.query_one("PRAGMA journal_mode")
    assert mode is not None and mode[0] == "wal"
    db.close()
    # Reopening changes nothing.
    assert Database(tmp_path / "servin.db").schema_version == len(MIGRATIONS)


def test_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    db = Database(tmp_path / "servin.db")
    try:
        with db.write() as conn:
            conn.execute(
                "INSERT INTO tags (name, image_id, tagged_at) VALUES ('x', 'y', 0)"
            )
    except sqlite3.IntegrityError:
        pass  # no such image: the foreign key refuses the tag
    assert db.query("SELECT * FROM tags") == []


_WRITER = """
import sys
from pathlib import Path
from servin_core.state.db import Database

db = Database(Path(sys.argv[1]))
for i in range(200):
    with db.write() as conn:
        # Read then write in one transaction: lost updates would show.
        (n,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
        conn.execute(
            "INSERT INTO events (time, type, action, actor_id, attributes)"
            " VALUES (?, 'test', 'count', ?, '{}')",
            (i, str(n)),
        )
"""


def test_two_processes_writing_at_once_corrupt_nothing(tmp_path: Path) -> None:
    path = tmp_path / "servin.db"
    Database(path).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(path)]) for _ in range(2)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    db = Database(path)
    counts = [int(row[0]) for row in db.query("SELECT actor_id FROM events")]
    # Each transaction saw every earlier one: the counts are 0..399, once each.
    assert sorted(counts) == list(range(400))
    assert db.query_one("PRAGMA integrity_check")[0] == "ok"  # type: ignore[index]
