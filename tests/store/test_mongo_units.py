"""MongoStore's unit of work on a replica set: every read and write inside
`store.transaction()` carries the unit's session, the transaction commits once or aborts once,
a write conflict becomes Conflict, and the content version moves once, after the commit.

The stand-in records the sessions (it has none to roll back); rolling back is the server's
part, and the contract suite shows it against a real replica set when
FORUM_TEST_MONGODB_URI is set."""
from __future__ import annotations

import pytest
from pymongo.errors import OperationFailure

from forum.errors import Conflict
from forum.model import Status
from tests.store.test_contract import (event_for, make_audit, make_notification, make_post,
                                       make_user)
from tests.support.mongo_standin import recording_store


@pytest.fixture
def recorded(io_loop):
    store, client = recording_store("forum_units")
    io_loop.run_sync(store.open)
    yield store, client
    io_loop.run_sync(store.close)


@pytest.mark.gen_test
async def test_every_call_inside_a_unit_carries_its_session_and_it_commits_once(recorded):
    store, client = recorded
    author = make_user("asker")
    await store.add_user(author)
    post = make_post(board="mayor", status=Status.SUBMITTED, author_id=author.id)
    await store.add_post(post)
    before = await store.content_version()
    client.calls.clear()
    sessions_before = len(client.sessions)
    async with store.transaction():
        await store.update_post(post.id, {"status": Status.ACCEPTED},
                                event=event_for(post.id, "accept"),
                                expect={"status": Status.SUBMITTED})
        await store.get_post(post.id)
        await store.add_audit(make_audit(author.id, f"post:{post.id}"))
        await store.add_notifications([make_notification(author.id)])
        await store.index_post(post.id, ["路灯"])
        inside = list(client.calls)
    unit = client.sessions[sessions_before]
    assert len(client.sessions) == sessions_before + 1 and unit.outcomes == ["started",
                                                                              "committed"]
    assert inside and all(session is unit for _, _, session in inside), [
        (collection, method) for collection, method, session in inside if session is not unit]
    assert {collection for collection, _, _ in inside} >= {"posts", "events", "audit",
                                                           "notifications"}
    assert await store.content_version() == before + 1   # once, after the commit


@pytest.mark.gen_test
async def test_a_unit_that_raises_aborts_and_moves_nothing_on(recorded):
    store, client = recorded
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await store.add_post(make_post())
            raise RuntimeError("fails half way")
    assert client.sessions[-1].outcomes == ["started", "aborted"]


@pytest.mark.gen_test
async def test_a_lost_write_conflict_is_a_conflict(recorded):
    store, client = recorded
    post = make_post()
    await store.add_post(post)
    conflict = OperationFailure("WriteConflict", code=112)
    conflict._error_labels = {"TransientTransactionError"}
    with pytest.raises(Conflict) as lost:
        async with store.transaction():
            await store.get_post(post.id)
            raise conflict
    assert lost.value.code == "stale" and client.sessions[-1].outcomes[-1] == "aborted"
