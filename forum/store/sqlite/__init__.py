"""The embedded default store: SQLite through the standard library (see core.py)."""
from forum.store.sqlite.core import FILES_FOLDER, MIGRATIONS, SqliteStore, _record_tables

__all__ = ["FILES_FOLDER", "MIGRATIONS", "SqliteStore", "_record_tables"]
