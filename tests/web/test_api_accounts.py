"""Accounts through the JSON API."""

from __future__ import annotations

import pytest

from tests.support.web import PASSWORD


@pytest.mark.gen_test
async def test_register_login_me_logout(api):
    created = await api.register("alice", display_name="爱丽丝", email="alice@example.org")
    assert created.status == 201
    user = created.json()["user"]
    assert user["username"] == "alice" and user["roles"] == ["citizen"]
    assert "password" not in created.text and "argon2" not in created.text
    login = await api.post("/auth/login", {"username": "ALICE", "password": PASSWORD})
    assert login.status == 200 and login.json()["user"]["display_name"] == "爱丽丝"
    me = api.as_user(login.json()["token"])
    assert (await me.get("/me")).json()["user"]["email"] == "alice@example.org"
    assert (await me.post("/auth/logout")).status == 204
    gone = await me.get("/me")
    assert gone.status == 401 and gone.error["code"] == "not_logged_in"


@pytest.mark.gen_test
async def test_taken_name_is_409_in_any_case(api):
    await api.register("alice")
    taken = await api.register("ALICE")
    assert taken.status == 409 and taken.error["code"] == "username_taken"


@pytest.mark.gen_test
async def test_wrong_password_and_unknown_user_answer_alike(api):
    await api.register("alice")
    wrong = await api.post("/auth/login", {"username": "alice", "password": "wrong-password"})
    unknown = await api.post("/auth/login", {"username": "nobody", "password": "wrong-password"})
    assert wrong.status == unknown.status == 401
    assert wrong.json() == unknown.json()


@pytest.mark.gen_test
async def test_login_is_throttled_with_retry_after(api):
    await api.register("alice")
    for _ in range(5):
        await api.post("/auth/login", {"username": "alice", "password": "wrong-password"})
    limited = await api.post("/auth/login", {"username": "alice", "password": PASSWORD})
    assert limited.status == 429 and int(limited.headers["Retry-After"]) > 0


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "body, field",
    [
        ({"password": PASSWORD}, "username"),
        ({"username": "ab", "password": PASSWORD}, "username"),
        ({"username": "<script>", "password": PASSWORD}, "username"),
        ({"username": {"$ne": None}, "password": PASSWORD}, "username"),
        ({"username": "alice"}, "password"),
        ({"username": "alice", "password": "1234567"}, "password"),
        ({"username": "alice", "password": True}, "password"),
        ({"username": "alice", "password": PASSWORD, "display_name": "长" * 41}, "display_name"),
        ({"username": "alice", "password": PASSWORD, "email": "@@"}, "email"),
    ],
)
async def test_register_bad_input_is_422_naming_the_field(api, body, field):
    response = await api.post("/auth/register", body)
    assert response.status == 422
    assert field in response.error["fields"]


@pytest.mark.gen_test
async def test_login_bad_input(api):
    missing = await api.post("/auth/login", {"username": "alice"})
    assert missing.status == 422 and "password" in missing.error["fields"]
    operator = await api.post("/auth/login", {"username": {"$gt": ""}, "password": {"$gt": ""}})
    assert operator.status == 422


@pytest.mark.gen_test
async def test_me_needs_a_valid_token(api):
    assert (await api.get("/me")).status == 401
    assert (await api.as_user("forged-token").get("/me")).status == 401
