"""SQLite's group commit: units of work queued for the writer share one transaction, each under
its own savepoint, and one COMMIT. A unit that fails is rolled back alone; every caller returns
only after the COMMIT that holds its writes; a COMMIT that fails tells every unit of its group;
two processes over one database take turns through the lock file, and all their writes land."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from forum.errors import Conflict, StoreUnavailable
from forum.store.sqlite import SqliteStore
from tests.store.test_contract import event_for, make_post, make_user
from tests.support.faults import FailingConnection, count_handoffs
from tests.test_server import ROOT


@pytest.fixture
def store(bare_sqlite):
    return bare_sqlite


@pytest.fixture
def commits(monkeypatch):
    """The COMMITs the writer runs, one entry per group."""
    seen: list[bool] = []
    original = SqliteStore._commit

    def counted(self, content, conn):
        seen.append(content)
        return original(self, content, conn)

    monkeypatch.setattr(SqliteStore, "_commit", counted)
    return seen


def committed_titles(path: str) -> set[str]:
    """What another connection reads: only what has been committed."""
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT title FROM posts")}
    finally:
        conn.close()


@pytest.mark.gen_test
async def test_a_failing_unit_is_rolled_back_alone_and_the_group_commits_once(store, commits):
    author = make_user("alice")
    await store.add_user(author)
    before = await store.content_version()
    commits.clear()

    async def unit(i: int) -> str:
        post = make_post(author_id=author.id, title=f"第{i}帖")
        async with store.transaction():
            await store.add_post(post, event_for(post.id))
            await store.put_setting(f"unit-{i}", i)
            if i == 2:
                raise RuntimeError("fails after its writes")
            if i == 3:
                await store.add_user(make_user("alice"))  # a constraint in SQL: Conflict
        return post.id

    # Started together: the first takes the writer, the others queue behind it and join its
    # group before the group's COMMIT, which queues behind them.
    results = await asyncio.gather(*(unit(i) for i in range(5)), return_exceptions=True)
    assert isinstance(results[2], RuntimeError) and isinstance(results[3], Conflict)
    kept = [results[i] for i in (0, 1, 4)]
    assert commits == [True]  # one COMMIT (one flush to disk) for the five
    # Returned only after that COMMIT: another connection already reads every kept unit.
    assert committed_titles(store.path) == {"第0帖", "第1帖", "第4帖"}
    for i, post_id in zip((0, 1, 4), kept):
        assert (await store.get_post(post_id)).title == f"第{i}帖"
        assert [e.action for e in await store.list_events(post_id)] == ["create"]
        assert await store.get_setting(f"unit-{i}") == i
    assert await store.get_setting("unit-2") is None and await store.get_setting("unit-3") is None
    assert len(await store.list_users(role=None, department=None, limit=10)) == 1
    assert await store.content_version() == before + 1


@pytest.mark.gen_test
async def test_single_writes_at_once_share_a_commit_and_each_returns_after_it(store, commits):
    commits.clear()
    await asyncio.gather(*(store.add_post(make_post(title=f"单写{i}")) for i in range(8)))
    assert len(commits) == 1
    assert committed_titles(store.path) == {f"单写{i}" for i in range(8)}


@pytest.mark.gen_test
async def test_a_units_statements_cross_to_the_writer_thread_only_for_begin_and_commit(
    store, monkeypatch
):
    """Holding the gate, a unit has the writer's connection to itself: its statements run on
    the event loop rather than waiting in the loop's queue for each answer from the writer
    thread while every other writer waits at the gate. The group's BEGIN (which may wait for
    another process's lock file) and COMMIT (the flush to disk) stay on the writer thread."""
    author = make_user("bob")
    await store.add_user(author)
    handed = count_handoffs(store._writer, "writer", monkeypatch)
    post = make_post(author_id=author.id, title="一个单元")
    async with store.transaction():
        await store.add_post(post, event_for(post.id))
        await store.put_setting("unit", 1)
        assert (await store.get_post(post.id)).title == "一个单元"  # sees its own writes
        await store.put_setting("unit", 2)
    # The first statement takes the group's BEGIN with it; then the COMMIT.
    assert handed == ["writer", "writer"]
    assert committed_titles(store.path) == {"一个单元"}
    assert await store.get_setting("unit") == 2
    # A single write, outside a use case, is the writer thread's (bulk work is written so):
    # its statement with the BEGIN, then the COMMIT.
    handed.clear()
    await store.put_setting("single", 1)
    assert handed == ["writer", "writer"]
    handed.clear()
    await asyncio.gather(store.put_setting("first", 1), store.put_setting("second", 2))
    assert handed == ["writer", "writer", "writer"]  # the second joins the group, on the thread


@pytest.mark.gen_test
async def test_a_commit_that_fails_tells_every_unit_of_its_group_and_stores_none(
    store, monkeypatch, tmp_path
):
    original = SqliteStore._commit
    failing = [True]

    def commit_once_failing(self, content, conn):
        if failing.pop() if failing else False:
            full_disk = FailingConnection(conn, "COMMIT".__eq__, "database or disk is full")
            return original(self, content, full_disk)
        return original(self, content, conn)

    monkeypatch.setattr(SqliteStore, "_commit", commit_once_failing)

    async def unit(i: int) -> None:
        async with store.transaction():
            await store.add_post(make_post(title=f"失败组{i}"))

    results = await asyncio.gather(*(unit(i) for i in range(4)), return_exceptions=True)
    assert all(isinstance(result, StoreUnavailable) for result in results), results
    assert committed_titles(store.path) == set()
    # Nothing is left held: the next write commits, and so does another store's (another
    # process's) over the same file, which waits on the lock file first.
    await store.add_post(make_post(title="之后"))
    other = SqliteStore(store.path)
    await other.open()
    try:
        await other.add_post(make_post(title="另一个进程"))
    finally:
        await other.close()
    assert committed_titles(store.path) == {"之后", "另一个进程"}


# Each process opens the store, says so, waits for the word, then writes its share at once:
# single writes and units of two writes, started together so that they form groups.
WRITER = textwrap.dedent("""
    import asyncio, sys
    sys.path.insert(0, {root!r})
    from forum.store.sqlite import SqliteStore
    from tests.store.test_contract import make_post

    async def main(path, name, count):
        store = SqliteStore(path)
        await store.open()
        print("ready", flush=True)
        sys.stdin.readline()

        async def unit(i):
            async with store.transaction():
                await store.add_post(make_post(title=f"{{name}}-{{i}}"))
                await store.put_setting(f"{{name}}-{{i}}", i)

        def write(i):
            if i % 2:
                return unit(i)
            return store.add_post(make_post(title=f"{{name}}-{{i}}"))

        await asyncio.gather(*(write(i) for i in range(count)))
        await store.close()
        print("done", flush=True)

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
""")


def test_two_processes_writing_at_once_over_one_database_all_land(tmp_path):
    path = str(tmp_path / "data" / "forum.db")
    count = 60

    async def prepare() -> None:
        store = SqliteStore(path)
        await store.open()
        await store.close()

    asyncio.run(prepare())
    script = WRITER.format(root=str(ROOT))
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, path, name, str(count)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        for process in processes:  # both start writing now
            process.stdin.write("go\n")
            process.stdin.flush()
        for process in processes:
            assert process.stdout.readline().strip() == "done"
            assert process.wait(timeout=60) == 0
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert committed_titles(path) == {f"{name}-{i}" for name in "ab" for i in range(count)}
    conn = sqlite3.connect(path)
    try:
        settings = conn.execute("SELECT COUNT(*) FROM settings").fetchone()[0]
    finally:
        conn.close()
    assert settings == count  # the units' second writes: half of each process's writes
