"""Counting the store's reads of its content version, in tests of what reads it."""

from __future__ import annotations


def count_version_reads(monkeypatch, store) -> list[int]:
    """The store's content version as read (alone, or with the others by `versions`),
    counting its answers."""
    read, read_all, answers = store.content_version, store.versions, []

    async def counted() -> int:
        answers.append(await read())
        return answers[-1]

    async def counted_all() -> tuple[int, int, int]:
        found = await read_all()
        answers.append(found[0])
        return found

    monkeypatch.setattr(store, "content_version", counted)
    monkeypatch.setattr(store, "versions", counted_all)
    return answers
