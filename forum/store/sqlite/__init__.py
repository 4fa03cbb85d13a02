"""The embedded default store: SQLite through the standard library.

SqliteStore is made of one class per record family (posts.py, users.py, boards.py, search.py,
files.py, notices.py, limits.py, records.py), each a subclass of core.py's _Core: the
connections, the writer thread with its group commit, the unit of work, open and close.
migrations.py holds the schema, rows.py what the families' statements share.
"""

from __future__ import annotations

from forum.store.sqlite.boards import _Boards
from forum.store.sqlite.core import FILES_FOLDER
from forum.store.sqlite.files import _Files
from forum.store.sqlite.limits import _Limits
from forum.store.sqlite.migrations import MIGRATIONS
from forum.store.sqlite.notices import _Notices
from forum.store.sqlite.posts import _Posts
from forum.store.sqlite.records import _record_tables, _Records
from forum.store.sqlite.search import _Search
from forum.store.sqlite.users import _Users

__all__ = ["FILES_FOLDER", "MIGRATIONS", "SqliteStore", "_record_tables"]


class SqliteStore(_Posts, _Users, _Boards, _Search, _Files, _Notices, _Limits, _Records):
    kind = "sqlite"
