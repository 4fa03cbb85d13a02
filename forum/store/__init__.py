"""open_store(url) picks the adapter from the URL scheme; the adapters stay behind this door."""

from __future__ import annotations

from urllib.parse import urlsplit

from forum.store.base import Store


def open_store(url: str) -> Store:
    """Build (not yet open) the store for `url`: `sqlite:///path/forum.db` or `mongodb://...`.

    Raises ValueError for any other scheme.
    """
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        from forum.store.sqlite import SqliteStore

        path = url[len("sqlite://") :]
        # sqlite:///data/forum.db is relative (three slashes), sqlite:////abs/forum.db absolute.
        return SqliteStore(path[1:] if path.startswith("/") else path)
    if scheme in ("mongodb", "mongodb+srv"):
        from forum.store.mongo import MongoStore

        return MongoStore(url)
    raise ValueError(f"unsupported store URL {url!r}: use sqlite:///path or mongodb://host/db")
