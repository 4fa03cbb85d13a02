"""MongoStore's unit of work on a replica set: every read and write inside
`store.transaction()` carries the unit's session, the transaction commits once or aborts once,
a write conflict becomes Conflict, and the content version moves once, after the commit.

The stand-in records the sessions (it has none to roll back); rolling back is the server's
part, and the contract suite shows it against a real replica set when
FORUM_TEST_MONGODB_URI is set."""

from __future__ import annotations

import inspect

import pytest
from pymongo.errors import OperationFailure, ServerSelectionTimeoutError

from forum.errors import Conflict, StoreUnavailable
from forum.model import Status, new_id
from forum.store.mongo import MongoStore
from forum.store.mongo.core import VERSIONED_WRITES
from tests.store.test_contract import event_for, make_audit, make_notification, make_post, make_user
from tests.store.test_contract import T0
from tests.support.mongo_standin import recording_store, standin_store


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
        await store.update_post(
            post.id,
            {"status": Status.ACCEPTED},
            event=event_for(post.id, "accept"),
            expect={"status": Status.SUBMITTED},
        )
        await store.get_post(post.id)
        await store.add_audit(make_audit(author.id, f"post:{post.id}"))
        await store.add_notifications([make_notification(author.id)])
        await store.index_post(post.id, ["路灯"])
        inside = list(client.calls)
    unit = client.sessions[sessions_before]
    assert len(client.sessions) == sessions_before + 1 and unit.outcomes == ["started", "committed"]
    assert inside and all(session is unit for _, _, session in inside), [
        (collection, method) for collection, method, session in inside if session is not unit
    ]
    assert {collection for collection, _, _ in inside} >= {
        "posts",
        "events",
        "audit",
        "notifications",
    }
    assert await store.content_version() == before + 1  # once, after the commit


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


# The store's class decorators, over every family's methods -----------------------------------
class Unreachable:
    """A database, collection or GridFS bucket whose every call fails as when no server answers."""

    def __getitem__(self, name):
        return self

    def __getattr__(self, name):
        def call(*args, **kwargs):
            raise ServerSelectionTimeoutError("no server answers")

        return call


# One read of each record family's methods, and the core's.
FAMILY_READS = [
    ("content_version", ()),
    ("get_post", (new_id(),)),
    ("get_user", (new_id(),)),
    ("list_departments", ()),
    ("get_posts", ([new_id()],)),
    ("get_attachment", (new_id(),)),
    ("count_unread", (new_id(),)),
    ("count_hits", ("posts-account:x", T0)),
    ("count_records", ()),
]


@pytest.mark.gen_test
@pytest.mark.parametrize("name, args", FAMILY_READS, ids=[name for name, _ in FAMILY_READS])
async def test_an_unreachable_server_is_store_unavailable_in_every_family(name, args):
    store = standin_store("forum_unreachable")
    store._database = store._attachments = Unreachable()
    with pytest.raises(StoreUnavailable):
        await getattr(store, name)(*args)


def test_every_public_coroutine_method_is_guarded_and_every_write_moves_its_version():
    """Wrapped on the assembled class, inherited methods included: guarded once, and each write
    that moves a version wrapped once more beneath."""
    layers = {}
    for name in dir(MongoStore):
        method = getattr(MongoStore, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(method):
            continue
        layers[name] = 0
        while hasattr(method, "__wrapped__"):
            method, layers[name] = method.__wrapped__, layers[name] + 1
    assert len(layers) > 90
    assert {
        name: count
        for name, count in layers.items()
        if count != (2 if name in VERSIONED_WRITES else 1)
    } == {}
