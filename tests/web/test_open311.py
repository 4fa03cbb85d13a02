"""Open311 GeoReport v2 through HTTP: JSON and XML, the specification's error shape and
statuses, keys issued and revoked by admins (JSON API and settings page), no cookie authority."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest

from forum.model import Role
from tests.support.people import login_as, person
from tests.support.web import Browser, Response

LETTER = {
    "title": "小区门口路灯不亮",
    "body": "一个月了，电话13812345678",
    "category": "城乡建设",
    "letter_type": "complaint",
    "area": "city",
    "contact": "13812345678",
    "public": True,
}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
}
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


class Open311:
    def __init__(self, http_client, base_url):
        self.http = http_client
        self.base = base_url + "/open311/v2"

    async def get(self, path: str, **query) -> Response:
        url = self.base + path + ("?" + urlencode(query) if query else "")
        return Response(await self.http.fetch(url, raise_error=False))

    async def post(
        self,
        fields: dict | None = None,
        *,
        path: str = "/requests.json",
        raw: bytes | None = None,
        headers: dict | None = None,
    ) -> Response:
        body = raw if raw is not None else urlencode(fields or {}).encode()
        return Response(
            await self.http.fetch(
                self.base + path,
                method="POST",
                body=body,
                headers=headers or FORM,
                raise_error=False,
            )
        )


@pytest.fixture
def o311(http_client, base_url):
    return Open311(http_client, base_url)


async def issue(api, store, name="12345 热线系统") -> str:
    root = await login_as(api, store, "root", Role.ADMIN)
    made = await root.post("/admin/api-keys", {"name": name})
    assert made.status == 201, made.text
    return made.json()["key"]


def assert_errors(response: Response, status: int) -> list[dict]:
    """The specification's error answer: the HTTP status, and a list of code and description."""
    assert response.status == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    errors = response.json()
    assert isinstance(errors, list) and errors
    for error in errors:
        assert set(error) == {"code", "description"} and error["code"] == status
        assert isinstance(error["description"], str) and error["description"]
    return errors


# reading ---------------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_services_in_json_and_xml(o311):
    found = await o311.get("/services.json")
    assert found.status == 200
    assert found.headers["Content-Type"] == "application/json; charset=utf-8"
    services = found.json()
    assert [s["service_code"] for s in services] == ["tax", "mayor"]
    for service in services:
        assert set(service) == {
            "service_code",
            "service_name",
            "description",
            "metadata",
            "type",
            "keywords",
            "group",
        }
        assert service["metadata"] is False
    as_xml = await o311.get("/services.xml", jurisdiction_id="yuxi.gov.cn")
    assert as_xml.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert as_xml.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = ElementTree.fromstring(as_xml.raw.body)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == ["tax", "mayor"]
    assert root.find("service/metadata").text == "false"
    definition = await o311.get("/services/mayor.json")
    assert definition.json() == {"service_code": "mayor", "attributes": []}
    assert_errors(await o311.get("/services/forum.json"), 404)
    assert_errors(await o311.get("/services/nope.json"), 404)


@pytest.mark.gen_test
async def test_a_public_letter_is_listed_and_read_with_every_field(o311, api, store):
    writer = await login_as(api, store, "writer")
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    post_id = (await writer.post("/boards/mayor/posts", LETTER)).json()["post"]["id"]
    assert (await o311.get("/requests.json")).json() == []
    assert_errors(await o311.get(f"/requests/{post_id}.json"), 404)
    await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})
    await mod.post(f"/posts/{post_id}/route", {"department": "housing", "due_days": 5})

    listed = await o311.get("/requests.json", status="open", service_code="mayor")
    assert listed.status == 200
    (item,) = listed.json()
    assert set(item) >= REQUEST_FIELDS
    assert item["service_request_id"] == post_id and item["status"] == "open"
    assert item["agency_responsible"] == "住房和城乡建设局"
    assert "13812345678" not in listed.text and "138****5678" in item["description"]
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", item[name]), name
    assert (await o311.get(f"/requests/{post_id}.json")).json() == [item]
    assert (await o311.get("/requests.json", status="closed")).json() == []

    as_xml = await o311.get(f"/requests/{post_id}.xml")
    request = ElementTree.fromstring(as_xml.raw.body).find("request")
    assert request.findtext("service_request_id") == post_id
    assert request.findtext("status") == "open" and request.find("lat").text is None


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "query",
    [
        {"status": "<b>open</b>"},
        {"service_code": "forum"},
        {"start_date": "last week"},
        {"start_date": "2026-01-01T00:00:00"},
        {"start_date": "2026-01-01", "end_date": "2026-06-01"},
        {"start_date": "2026-02-01", "end_date": "2026-01-01"},
    ],
)
async def test_bad_list_arguments_answer_400_in_the_spec_shape(o311, query):
    errors = assert_errors(await o311.get("/requests.json", **query), 400)
    assert "<b>" not in json.dumps(errors, ensure_ascii=False)


@pytest.mark.gen_test
async def test_unknown_paths_and_methods_answer_in_the_spec_shape(o311):
    assert_errors(await o311.get("/nothing.json"), 404)
    assert_errors(await o311.get("/services.yaml"), 404)
    assert_errors(await o311.get("/requests/../services.json"), 404)
    missing = await o311.get("/requests/nonsense.xml")
    assert missing.status == 404 and missing.headers["Content-Type"].startswith("text/xml")
    errors = ElementTree.fromstring(missing.raw.body)
    assert errors.tag == "errors" and errors.findtext("error/code") == "404"
    assert_errors(await o311.post({}, path="/services.json"), 405)


# posting ---------------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_a_posted_tax_report_is_never_listed_nor_readable(o311, api, store):
    key = await issue(api, store)
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    posted = await o311.post(
        {
            "api_key": key,
            "service_code": "tax",
            "description": "某公司虚开发票",
            "attribute[AMOUNT]": "100万",
            "jurisdiction_id": "yuxi.gov.cn",
        }
    )
    assert posted.status == 201, posted.text
    (answer,) = posted.json()
    assert set(answer) == {"service_request_id", "token", "service_notice", "account_id"}
    assert answer["service_request_id"] is None
    token = answer["token"]
    tracked = await api.get(f"/track/{token}")
    report_id = tracked.json()["post"]["id"]
    await mod.post(f"/posts/{report_id}/moderate", {"action": "accept"})
    await mod.post(f"/posts/{report_id}/route", {"department": "tax"})

    assert (await o311.get("/requests.json")).json() == []
    assert (await o311.get("/requests.json", service_request_id=report_id)).json() == []
    assert_errors(await o311.get(f"/requests/{report_id}.json"), 404)
    assert_errors(await o311.get(f"/tokens/{token}.json"), 404)
    assert report_id not in (await o311.get(f"/tokens/{token}.xml")).text


@pytest.mark.gen_test
async def test_a_public_letter_posted_with_a_key_resolves_by_token_once_accepted(o311, api, store):
    key = await issue(api, store)
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    # A JSON body is taken too, and the key may come in the query string.
    posted = await o311.post(
        path=f"/requests.json?{urlencode({'api_key': key})}",
        raw=json.dumps(
            {
                "service_code": "mayor",
                "description": "路灯不亮",
                "last_name": "张",
                "phone": "13812345678",
                "public": True,
            }
        ).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert posted.status == 201, posted.text
    token = posted.json()[0]["token"]
    assert_errors(await o311.get(f"/tokens/{token}.json"), 404)
    post_id = (await api.get(f"/track/{token}")).json()["post"]["id"]
    await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})
    resolved = await o311.get(f"/tokens/{token}.json")
    assert resolved.json() == [{"service_request_id": post_id, "token": token}]
    as_xml = ElementTree.fromstring((await o311.get(f"/tokens/{token}.xml")).raw.body)
    assert as_xml.findtext("request/service_request_id") == post_id
    assert [i["service_request_id"] for i in (await o311.get("/requests.json")).json()] == [post_id]


@pytest.mark.gen_test
async def test_posting_without_a_live_key_is_403_and_cookies_give_no_authority(
    o311, api, store, http_client, base_url
):
    report = {"service_code": "tax", "description": "虚开发票"}
    missing = assert_errors(await o311.post(report), 403)
    assert "api_key" in missing[0]["description"]
    assert_errors(await o311.post({**report, "api_key": "guessed"}), 403)

    # An admin's browser session, cookies and XSRF token and all, is no key.
    await person(store, "root", Role.ADMIN)
    browser = Browser(http_client, base_url)
    await browser.log_in("root")
    assert browser.cookies
    with_cookies = await browser.request(
        "POST",
        "/open311/v2/requests.json",
        urlencode({**report, "_xsrf": await browser.xsrf()}).encode(),
        FORM,
    )
    assert_errors(with_cookies, 403)
    assert "Set-Cookie" not in with_cookies.headers

    key = await issue(api, store)
    assert (await o311.post({**report, "api_key": key})).status == 201  # no XSRF asked
    root = await login_as(api, store, "root", Role.ADMIN)
    (listed,) = (await root.get("/admin/api-keys")).json()["items"]
    revoked = await root.call("DELETE", f"/admin/api-keys/{listed['id']}")
    assert revoked.status == 200 and revoked.json()["api_key"]["active"] is False
    assert_errors(await o311.post({**report, "api_key": key}), 403)


@pytest.mark.gen_test
@pytest.mark.parametrize(
    "fields, status",
    [
        ({"description": "没有 service_code"}, 400),
        ({"service_code": "nope", "description": "x"}, 404),
        ({"service_code": "tax"}, 400),
        ({"service_code": "tax", "description": "x" * 4001}, 400),
        ({"service_code": "mayor", "description": "实名信缺姓名和联系方式"}, 400),
        ({"service_code": "tax", "description": "x", "lat": "24", "long": "east"}, 400),
    ],
)
async def test_bad_posts_answer_in_the_spec_shape(o311, api, store, fields, status):
    key = await issue(api, store)
    assert_errors(await o311.post({"api_key": key, **fields}), status)


@pytest.mark.gen_test
async def test_malformed_bodies_are_400(o311, api, store):
    key = await issue(api, store)
    for raw, content_type in (
        (b"{not json", "application/json"),
        (b"[1]", "application/json"),
        (b"service_code=tax&description=%FF%FE&api_key=" + key.encode(), FORM["Content-Type"]),
    ):
        assert_errors(await o311.post(raw=raw, headers={"Content-Type": content_type}), 400)


@pytest.mark.gen_test
async def test_hostile_text_comes_back_as_text_in_json_and_escaped_in_xml(o311, api, store):
    key = await issue(api, store)
    mod = await login_as(api, store, "mod", Role.MODERATOR)
    hostile = "</description><script>alert(1)</script>&amp; ]]>"
    posted = await o311.post(
        {
            "api_key": key,
            "service_code": "mayor",
            "description": hostile,
            "last_name": "张",
            "email": "z@example.cn",
            "public": "1",
        }
    )
    token = posted.json()[0]["token"]
    post_id = (await api.get(f"/track/{token}")).json()["post"]["id"]
    await mod.post(f"/posts/{post_id}/moderate", {"action": "accept"})
    (item,) = (await o311.get(f"/requests/{post_id}.json")).json()
    assert item["description"] == hostile
    as_xml = await o311.get(f"/requests/{post_id}.xml")
    assert "<script>" not in as_xml.text
    assert ElementTree.fromstring(as_xml.raw.body).findtext("request/description") == hostile


@pytest.mark.gen_test
async def test_posts_per_key_are_rate_limited_with_retry_after(o311, api, store):
    key = await issue(api, store)
    report = {"api_key": key, "service_code": "tax", "description": "虚开发票"}
    for _ in range(10):
        assert (await o311.post(report)).status == 201
    limited = await o311.post(report)
    assert_errors(limited, 429)
    assert int(limited.headers["Retry-After"]) > 0


# keys ------------------------------------------------------------------------------------------
@pytest.mark.gen_test
async def test_admins_issue_list_and_revoke_keys_through_the_json_api(api, store):
    root = await login_as(api, store, "root", Role.ADMIN)
    made = await root.post("/admin/api-keys", {"name": "12345 热线系统"})
    assert made.status == 201
    key, record = made.json()["key"], made.json()["api_key"]
    assert set(record) == {"id", "name", "created_by", "created_at", "revoked_at", "active"}
    listed = await root.get("/admin/api-keys")
    assert listed.json()["items"] == [record] and key not in listed.text
    assert (await root.post("/admin/api-keys", {"name": ""})).status == 422
    gone = await root.call("DELETE", f"/admin/api-keys/{record['id']}?reason=泄露")
    assert gone.status == 200 and gone.json()["api_key"]["revoked_at"]
    assert (await root.call("DELETE", "/admin/api-keys/" + "0" * 24)).status == 404
    audit = (await root.get("/admin/audit")).json()["items"]
    assert [e["action"] for e in audit[:2]] == ["revoke_api_key", "issue_api_key"]

    citizen = await login_as(api, store, "citizen")
    moderator = await login_as(api, store, "mod", Role.MODERATOR)
    for who, status in ((api, 401), (citizen, 403), (moderator, 403)):
        assert (await who.post("/admin/api-keys", {"name": "x"})).status == status
        assert (await who.get("/admin/api-keys")).status == status
        assert (await who.call("DELETE", f"/admin/api-keys/{record['id']}")).status == status


@pytest.mark.gen_test
async def test_the_settings_page_issues_a_key_once_and_revokes_it(
    http_client, base_url, store, o311
):
    await person(store, "root", Role.ADMIN)
    browser = Browser(http_client, base_url)
    await browser.log_in("root")
    empty = await browser.submit("/admin/settings", {"form": "api_key", "key_name": " "})
    assert empty.status == 422 and 'id="key_name-error"' in empty.text
    answer = await browser.submit(
        "/admin/settings", {"form": "api_key", "key_name": "<b>微信</b>小程序"}
    )
    assert answer.status == 303 and answer.headers["Location"] == "/admin/settings"
    assert "issued-key" not in answer.text and answer.headers["Cache-Control"] == "no-store"
    issued = await browser.follow(answer)
    assert issued.status == 200 and issued.headers["Cache-Control"] == "no-store"
    key = re.search(r'<code id="issued-key">([^<]+)</code>', issued.text).group(1)
    assert "&lt;b&gt;微信&lt;/b&gt;小程序" in issued.text and "<b>微信" not in issued.text
    page = await browser.get("/admin/settings")
    assert key not in page.text and "&lt;b&gt;微信&lt;/b&gt;小程序" in page.text
    report = {"api_key": key, "service_code": "tax", "description": "虚开发票"}
    assert (await o311.post(report)).status == 201

    key_id = re.search(r'name="key_id" value="([0-9a-f]{24})"', page.text).group(1)
    revoked = await browser.submit_and_follow(
        "/admin/settings", {"form": "revoke_api_key", "key_id": key_id}
    )
    assert revoked.status == 200 and "已吊销" in revoked.text
    assert 'name="key_id"' not in revoked.text
    assert_errors(await o311.post(report), 403)
    forged = await browser.submit(
        "/admin/settings", {"form": "api_key", "key_name": "x"}, xsrf=False
    )
    assert forged.status == 403
