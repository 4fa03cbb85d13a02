"""Open figures through HTTP: the CSV tables, the monthly bulletins and a department's record."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io

import pytest

from forum.model import Department, Post, Status, new_id

T = dt.datetime(2026, 10, 12, 2, 0, tzinfo=dt.timezone.utc)  # a Monday, 10:00 in Yuxi
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def case(status=Status.CLOSED, department="housing", at=T, **extra) -> Post:
    fields = dict(
        public=True,
        department=department,
        area="city",
        letter_type="complaint",
        accepted_at=at + H,
        routed_at=at + H,
        due_at=at + 10 * D,
        replied_at=at + D,
        closed_at=at + 2 * D,
        rating="satisfied",
    )
    return Post(
        id=new_id(),
        board="mayor",
        title="路灯不亮",
        body="b",
        html="<p>b</p>",
        author_id=None,
        status=status,
        created_at=at,
        updated_at=at,
        **{**fields, **extra},
    )


@pytest.fixture
def figures(store, io_loop, clock):
    clock.set(T + 20 * D)  # November 2026, in the year of the cases

    async def load():
        # an admin-made department whose name a spreadsheet would run as a formula
        await store.add_department(Department("sneaky", '=HYPERLINK("http://x")'))
        await store.add_post(case())
        await store.add_post(case(department="sneaky", area="hongta"))
        await store.add_post(
            case(status=Status.MERGED, department=None, replied_at=None, rating=None)
        )

    io_loop.run_sync(load)
    return store


def table(response) -> list[list[str]]:
    assert response.raw.body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(response.text.removeprefix("\ufeff"))))


@pytest.mark.gen_test
async def test_csv_by_each_grouping(api, figures):
    got = await api.get("/stats.csv?by=department&from=2026-10-01&to=2026-11-01")
    assert got.status == 200 and got.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = table(got)
    header = rows[0]
    assert header[:3] == ["department", "name", "level"]
    assert {
        "received",
        "closed",
        "completion_rate",
        "extended",
        "supervised",
        "unrated",
        "merged",
        "satisfied",
        "unsatisfied",
    } <= set(header)
    by_slug = {row[0]: dict(zip(header, row)) for row in rows[1:]}
    assert (
        by_slug["housing"]["name"] == "住房和城乡建设局" and by_slug["housing"]["received"] == "1"
    )
    assert by_slug["gov-hongta"]["level"] == "county" and by_slug["housing"]["level"] == "bureau"
    # formula injection: the cell is text, not a formula
    assert by_slug["sneaky"]["name"] == '\'=HYPERLINK("http://x")'
    boards = table(await api.get("/stats.csv?by=board"))
    assert boards[0][:3] == ["board", "name", "received"]
    mayor = {row[0]: dict(zip(boards[0], row)) for row in boards[1:]}["mayor"]
    assert (mayor["received"], mayor["merged"], mayor["satisfied"]) == ("2", "1", "2")
    assert mayor["reply_rate"] == "1.0" and mayor["on_time_rate"] == "1.0"
    areas = {row[0]: row for row in table(await api.get("/stats.csv?by=area"))[1:]}
    assert areas["city"][1] == "市本级" and len(areas) == 10
    types = table(await api.get("/stats.csv?by=type"))
    assert types[0][0] == "type" and [r[0] for r in types[1:]][:2] == ["consult", "complaint"]
    months = table(await api.get("/stats.csv?by=month"))
    assert [r[0] for r in months[1:]] == ["2026-10"]


@pytest.mark.gen_test
async def test_csv_refuses_bad_values_by_name(api, figures):
    for query, fields in (
        ("", {"by"}),
        ("by=street", {"by"}),
        ("by=board&from=someday", {"from"}),
        ("by=x&to=2026-13-01", {"by", "to"}),
    ):
        bad = await api.get("/stats.csv?" + query)
        assert bad.status == 422 and set(bad.error["fields"]) == fields, query


@pytest.mark.gen_test
async def test_stats_json_has_areas_types_and_levels(api, figures):
    body = (await api.get("/stats")).json()
    assert set(body["areas"]) >= {"city", "hongta"} and "complaint" in body["types"]
    assert set(body["levels"]) == {"bureau", "county"}
    mayor = body["boards"]["mayor"]
    assert (
        mayor["received"],
        mayor["merged"],
        mayor["extended"],
        mayor["supervised"],
        mayor["unrated"],
    ) == (2, 1, 0, 0, 0)
    assert body["levels"]["bureau"]["received"] == 2  # housing and the admin's department


@pytest.mark.gen_test
async def test_department_record(api, figures):
    got = await api.get("/departments/housing/record")
    assert got.status == 200
    body = got.json()
    assert body["department"] == {"slug": "housing", "name": "住房和城乡建设局", "kind": "bureau"}
    assert body["stats"]["received"] == 1 and body["stats"]["closed"] == 1
    assert [post["title"] for post in body["recent"]] == ["路灯不亮"]
    assert body["since"] == "2026-01-01"
    assert (await api.get("/departments/nowhere/record")).status == 404


@pytest.mark.gen_test
async def test_record_counts_this_year_only(api, figures, clock):
    clock.set(T + 100 * D)  # January 2027: last year's cases are not this year's
    body = (await api.get("/departments/housing/record")).json()
    assert body["stats"]["received"] == 0 and body["since"] == "2027-01-01"


@pytest.mark.gen_test
async def test_monthly_bulletin(browser, figures):
    page = await browser.get("/stats/2026-10")
    assert page.status == 200
    text = page.text
    assert "统计口径" in text and "重复件" in text
    assert 'href="/stats/2026-09"' in text and 'href="/stats/2026-11"' in text
    assert "/api/v1/stats.csv?by=month&amp;from=2026-10-01&amp;to=2026-11-01" in text
    assert "住房和城乡建设局" in text and 'href="/departments/housing"' in text
    assert "市级部门" in text and "市本级" in text and "投诉" in text
    current = await browser.get("/stats/2026-11")  # the current month: no next one yet
    assert current.status == 200 and 'href="/stats/2026-12"' not in current.text
    first = await browser.get("/stats/2000-01")
    assert first.status == 200 and 'href="/stats/1999-12"' not in first.text
    for month in ("2026-12", "1999-12", "2026-13", "2026-1", "26-10", "abcd-ef", "2026-00"):
        assert (await browser.get("/stats/" + month)).status == 404, month


@pytest.mark.gen_test
async def test_stats_page_tables_download_and_link(browser, figures):
    page = await browser.get("/stats")
    assert page.status == 200
    for by in ("board", "department", "area", "type", "month"):
        assert f"/api/v1/stats.csv?by={by}" in page.text
    assert page.text.count("下载 CSV") >= 5 and "左右滑动查看更多" in page.text
    assert 'href="/departments/housing"' in page.text and 'href="/stats/2026-10"' in page.text
    assert "县（市、区）政府" in page.text and "每条“不满意”计入" in page.text


@pytest.mark.gen_test
async def test_a_month_not_yet_due_shows_no_rate(browser, store, clock, io_loop):
    clock.set(T + 2 * D)
    await store.add_post(case(status=Status.ROUTED, replied_at=None, closed_at=None, rating=None))
    page = await browser.get("/stats")
    assert ">0.0%<" not in page.text and "都还未到答复期限" in page.text


@pytest.mark.gen_test
async def test_department_page_shows_its_year(browser, figures):
    page = await browser.get("/departments/housing")
    assert page.status == 200
    assert "2026年的办理情况" in page.text and "市级部门" in page.text
    assert "/api/v1/stats.csv?by=department&amp;from=2026-01-01" in page.text
    assert (await browser.get("/departments/nowhere")).status == 404


@pytest.mark.gen_test
async def test_a_few_tax_reports_are_withheld_on_every_door(api, browser, store, clock):
    """Two tax reports in a window: no door tells their count, reply time or rating."""
    clock.set(T + 20 * D)
    for _ in range(2):
        await store.add_post(
            dataclasses.replace(
                case(
                    department="tax",
                    public=False,
                    area=None,
                    letter_type=None,
                    rating="unsatisfied",
                ),
                board="tax",
            )
        )
    await store.add_post(case())  # a mayor letter: never withheld
    body = (await api.get("/stats?from=2026-10-01&to=2026-11-01")).json()
    tax = body["boards"]["tax"]
    assert tax["received"] is None and tax["median_first_reply_hours"] is None
    assert tax["satisfaction"]["unsatisfied"] is None
    assert {"received", "closed", "satisfaction.unsatisfied", "median_first_reply_hours"} <= set(
        tax["withheld"]
    )
    assert body["departments"]["tax"]["received"] is None
    assert body["boards"]["mayor"]["received"] == 1 and body["boards"]["mayor"]["withheld"] == []
    rows = table(await api.get("/stats.csv?by=board&from=2026-10-01&to=2026-11-01"))
    by_board = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    assert by_board["tax"]["received"] == "<5" and by_board["tax"]["unsatisfied"] == "<5"
    assert by_board["tax"]["completion_rate"] == "" and by_board["mayor"]["received"] == "1"
    page = await browser.get("/stats?from=2026-10-01&to=2026-11-01")
    assert "&lt;5" in page.text and "不足 5 件的数字不公开" in page.text
    board = await browser.get("/boards/tax")
    assert "&lt;5" in board.text
    record = (await api.get("/departments/tax/record")).json()
    assert record["stats"]["received"] is None
