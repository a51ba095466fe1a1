"""The state store: SQLite in WAL mode, shared by every Servin process."""

from servin_core.state.db import Database

__all__ = ["Database"]
