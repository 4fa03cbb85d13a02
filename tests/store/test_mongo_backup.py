"""How MongoStore.export_records reads: in one snapshot session where the server offers snapshot
reads (a replica set or sharded cluster of 5.0 or later), plainly elsewhere. The stand-in has no
sessions, so here it answers hello as such a server would and hands out a session that only
records its use; the contract suite checks the snapshot itself against a real server."""

from __future__ import annotations

import pytest
from pymongo_async_mock import AsyncMongoMockCollection

from tests.store.test_contract import every_kind, exported
from tests.support import mongo_standin, stores


class RecordingSession:
    def __init__(self, options):
        self.options, self.entered, self.left = options, False, False

    async def __aenter__(self):
        self.entered = True
        return self

    async def __aexit__(self, *exc):
        self.left = True


@pytest.fixture
def mongo(io_loop, tmp_path):
    # Always the stand-in, even when a real server is configured: these tests script the
    # server's answers to `hello`, which only the stand-in lets them do.
    store = mongo_standin.standin_store(f"forum_test_backup_{tmp_path.name[-12:]}")
    io_loop.run_sync(store.open)
    yield store
    io_loop.run_sync(lambda: stores.dispose(store))


def server_answers(monkeypatch, store, hello):
    """From now on, hello answers `hello`; every session started is recorded, and so is the
    session every find is given."""
    monkeypatch.setattr(mongo_standin, "STANDALONE_HELLO", hello)
    sessions, finds = [], []

    def start_session(**options):
        sessions.append(RecordingSession(options))
        return sessions[-1]

    monkeypatch.setattr(store._client, "start_session", start_session, raising=False)
    original = AsyncMongoMockCollection.find

    def find(self, *args, **kwargs):
        finds.append(kwargs.get("session"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(AsyncMongoMockCollection, "find", find)
    return sessions, finds


@pytest.mark.gen_test
async def test_a_replica_set_of_5_0_or_later_is_read_in_one_snapshot_session(mongo, monkeypatch):
    made = await every_kind(mongo)
    sessions, finds = server_answers(monkeypatch, mongo, {"setName": "rs0", "maxWireVersion": 21})
    assert await exported(mongo) == made
    (session,) = sessions
    assert session.options == {"snapshot": True} and session.entered and session.left
    assert finds and all(used is session for used in finds)


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "hello",
    [
        {"maxWireVersion": 21},  # standalone
        {"setName": "rs0", "maxWireVersion": 12},
    ],  # 4.4
    ids=["standalone", "before 5.0"],
)
async def test_without_snapshot_reads_the_export_reads_plainly(mongo, monkeypatch, hello):
    made = await every_kind(mongo)
    sessions, finds = server_answers(monkeypatch, mongo, hello)
    assert await exported(mongo) == made
    assert sessions == [] and finds and all(used is None for used in finds)
