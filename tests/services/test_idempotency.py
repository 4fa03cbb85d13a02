"""The Idempotency-Key rule (forum/services/idempotency.py) over a real store."""

from __future__ import annotations

import asyncio

import pytest

from forum.errors import Conflict
from forum.services import idempotency
from forum.services.idempotency import Answer, BadKey, Request

SECRET = b"test-secret"


def request(key="k", body=b"{}", caller="user:1") -> Request:
    return Request(caller, key, "POST", "/api/v1/boards/forum/posts", body)


@pytest.mark.parametrize("raw", ["a", "x" * 64, "!~", "550e8400-e29b-41d4-a716-446655440000"])
def test_keys_of_visible_ascii_are_taken(raw):
    assert idempotency.parse_key(raw) == raw


@pytest.mark.parametrize("raw", ["", "x" * 65, "a b", "tab\t", "键", "caf\u00e9", "\x7f"])
def test_other_keys_are_refused(raw):
    with pytest.raises(BadKey) as refused:
        idempotency.parse_key(raw)
    assert refused.value.status == 422 and set(refused.value.fields) == {"Idempotency-Key"}


@pytest.mark.gen_test
async def test_a_retry_waits_for_the_first_then_gets_its_answer(store, clock):
    started, release = asyncio.Event(), asyncio.Event()
    runs = []

    async def slow() -> Answer:
        runs.append(1)
        started.set()
        await release.wait()
        return Answer(201, "application/json", '{"n":1}')

    first = asyncio.ensure_future(idempotency.once(store, SECRET, request(), slow))
    await started.wait()
    second = asyncio.ensure_future(idempotency.once(store, SECRET, request(), slow))
    await asyncio.sleep(0.1)
    release.set()
    one, two = await asyncio.gather(first, second)
    assert runs == [1]
    assert (one.replayed, two.replayed) == (False, True)
    assert (two.status, two.body) == (201, '{"n":1}')


@pytest.mark.gen_test
async def test_a_retry_gives_up_with_a_conflict_while_the_first_still_runs(
    store, clock, monkeypatch
):
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    started, release = asyncio.Event(), asyncio.Event()

    async def stuck() -> Answer:
        started.set()
        await release.wait()
        return Answer(201, "application/json", "{}")

    first = asyncio.ensure_future(idempotency.once(store, SECRET, request(), stuck))
    await started.wait()
    with pytest.raises(idempotency.StillRunning) as busy:
        await idempotency.once(store, SECRET, request(), stuck)
    assert busy.value.status == 409 and busy.value.code == "conflict"
    release.set()
    assert (await first).status == 201


@pytest.mark.gen_test
async def test_a_failed_create_frees_its_key(store, clock):
    async def failing() -> Answer:
        raise Conflict()

    with pytest.raises(Conflict):
        await idempotency.once(store, SECRET, request(), failing)

    async def working() -> Answer:
        return Answer(201, "application/json", "{}")

    assert not (await idempotency.once(store, SECRET, request(), working)).replayed
    with pytest.raises(BadKey):
        await idempotency.once(store, SECRET, request(body=b'{"other":1}'), working)
