"""Where the SQLite store keeps attachment bytes, and that no row lacks its file."""

from __future__ import annotations

import os
import sqlite3

import pytest

from forum.model import new_id
from tests.store.test_contract import make_attachment, make_post


@pytest.fixture
def store(bare_sqlite):
    return bare_sqlite


@pytest.mark.gen_test
async def test_bytes_are_a_file_named_by_id_beside_the_database(store, tmp_path):
    post = make_post()
    await store.add_post(post)
    attachment = make_attachment(post.id, b"%PDF-1.7", filename="../../static/evil.pdf")
    await store.add_attachment(attachment, b"%PDF-1.7")
    files = tmp_path / "data" / "files"
    assert os.listdir(files) == [attachment.id]  # no temporary file left behind
    assert (files / attachment.id).read_bytes() == b"%PDF-1.7"
    assert sorted(os.listdir(tmp_path / "data")) == sorted(
        name
        for name in ("files", "forum.db", "forum.db-wal", "forum.db-shm", "forum.db-lock")
        if (tmp_path / "data" / name).exists()
    )


@pytest.mark.gen_test
async def test_a_failed_insert_removes_the_file(store, tmp_path):
    post = make_post()
    await store.add_post(post)
    conn = sqlite3.connect(store.path)
    try:  # a row the database refuses after the file is in place
        conn.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON attachments "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
        conn.commit()
    finally:
        conn.close()
    attachment = make_attachment(post.id, b"photo")
    with pytest.raises(sqlite3.IntegrityError):
        await store.add_attachment(attachment, b"photo")
    assert os.listdir(tmp_path / "data" / "files") == []
    assert await store.list_attachments(post.id) == []


@pytest.mark.gen_test
async def test_an_id_that_is_not_one_names_no_file(store):
    post = make_post()
    await store.add_post(post)
    with pytest.raises(ValueError):
        await store.add_attachment(make_attachment(post.id, b"x", id="../forum.db"), b"x")
    assert await store.get_attachment(new_id()) is None
