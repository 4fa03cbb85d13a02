"""The counting rules of the statistics, pinned against a hand-made set of cases."""

from __future__ import annotations

import datetime as dt

import pytest

from forum.errors import Invalid
from forum.model import Post, Status, new_id
from forum.services import stats, stats_reports

T = dt.datetime(2026, 10, 12, 2, 0, tzinfo=dt.timezone.utc)  # a Monday, 10:00 in Yuxi
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def case(board="mayor", status=Status.SUBMITTED, at=T, **extra) -> Post:
    return Post(
        id=new_id(),
        board=board,
        title="t",
        body="b",
        html="",
        author_id=None,
        status=status,
        created_at=at,
        updated_at=at,
        **extra,
    )


DATASET = [
    # closed on time, satisfied: replied 10 hours after submission
    case(
        status=Status.CLOSED,
        department="housing",
        accepted_at=T + H,
        routed_at=T + 2 * H,
        due_at=T + 10 * D,
        replied_at=T + 10 * H,
        closed_at=T + D,
        rating="satisfied",
    ),
    # replied late, rated 不满意 once then closed: counted once, late
    case(
        status=Status.CLOSED,
        department="housing",
        accepted_at=T + H,
        routed_at=T + H,
        due_at=T + 2 * D,
        replied_at=T + 3 * D,
        closed_at=T + 4 * D,
        rating="unsatisfied",
        reopened=True,
    ),
    # routed, overdue now, no reply
    case(
        status=Status.ROUTED,
        department="transport",
        accepted_at=T + H,
        routed_at=T + H,
        due_at=T + D,
    ),
    # rejected: received, never accepted
    case(status=Status.REJECTED),
    # a tax report, replied, waiting for its rating, basically satisfied not yet
    case(
        board="tax",
        status=Status.REPLIED,
        department="tax",
        accepted_at=T + H,
        routed_at=T + H,
        due_at=T + 10 * D,
        replied_at=T + 20 * H,
    ),
    # next month: outside a period that ends on Nov 1
    case(at=T + 30 * D, status=Status.SUBMITTED),
]


@pytest.fixture
def cases_in(store, io_loop, clock):
    # "Overdue now" is a figure of the moment the report is made: pinned to a day after the
    # dataset, whatever today is.
    clock.set(T + 40 * D)

    async def load():
        for post in DATASET:
            await store.add_post(post)

    io_loop.run_sync(load)
    return store


@pytest.mark.gen_test
async def test_board_figures_follow_the_counting_rules(cases_in):
    report = await stats.report(cases_in, "2026-10-01", "2026-11-01")
    mayor = report.boards["mayor"].as_dict()
    assert (mayor["received"], mayor["accepted"], mayor["replied"], mayor["closed"]) == (4, 3, 2, 2)
    assert mayor["reply_rate"] == round(2 / 3, 4) and mayor["completion_rate"] == round(2 / 3, 4)
    assert mayor["on_time_rate"] == 0.5
    assert mayor["median_first_reply_hours"] == round((10 + 72) / 2, 1)
    assert mayor["overdue"] == 1
    assert mayor["satisfaction"] == {"satisfied": 1, "basically_satisfied": 0, "unsatisfied": 1}
    counted = report.boards["tax"]
    assert (counted.received, counted.replied, counted.closed) == (1, 1, 0)
    # one tax report: its figures are withheld (small cells), zero is shown
    tax = counted.as_dict()
    assert (tax["received"], tax["replied"], tax["closed"], tax["completion_rate"]) == (
        None,
        None,
        0,
        None,
    )
    assert {
        "received",
        "accepted",
        "replied",
        "reply_rate",
        "completion_rate",
        "on_time_rate",
        "median_first_reply_hours",
    } <= set(tax["withheld"])
    assert mayor["withheld"] == []


def tax_report(**extra) -> Post:
    return case(
        board="tax",
        status=Status.CLOSED,
        department="tax",
        accepted_at=T + H,
        routed_at=T + H,
        due_at=T + 10 * D,
        replied_at=T + 20 * H,
        closed_at=T + D,
        **extra,
    )


@pytest.mark.parametrize(
    "cases, shown, withheld",
    [
        # fewer than 5 reports: every count of 1 to 4 and every rate withheld, zero shown
        (
            [tax_report()] * 4,
            {"overdue": 0, "merged": 0},
            {
                "received",
                "accepted",
                "replied",
                "closed",
                "reply_rate",
                "completion_rate",
                "on_time_rate",
                "median_first_reply_hours",
            },
        ),
        # five: counts of five and more and the rates shown; the one 不满意 withheld
        (
            [tax_report()] * 4 + [tax_report(rating="unsatisfied")],
            {"received": 5, "closed": 5, "completion_rate": 1.0, "median_first_reply_hours": 20.0},
            {"satisfaction.unsatisfied"},
        ),
        # a group of mayor letters with one tax report among them (a department, a month)
        (
            [case(status=Status.CLOSED, accepted_at=T + H, replied_at=T + 2 * H, closed_at=T + D)]
            * 6
            + [tax_report(extended=True)],
            {"received": 7, "closed": 7, "reply_rate": 1.0},
            {"extended"},
        ),
        # no confidential report: nothing withheld, however small
        (
            [
                case(
                    status=Status.CLOSED,
                    accepted_at=T + H,
                    replied_at=T + 2 * H,
                    closed_at=T + D,
                    rating="unsatisfied",
                )
            ],
            {
                "received": 1,
                "closed": 1,
                "completion_rate": 1.0,
                "satisfaction": {"satisfied": 0, "basically_satisfied": 0, "unsatisfied": 1},
            },
            set(),
        ),
    ],
)
def test_small_cells_of_confidential_reports_are_withheld(cases, shown, withheld):
    figures = stats.Figures()
    for post in cases:
        figures.add(post, T + 40 * D)
    got = figures.as_dict()
    assert set(got["withheld"]) == withheld
    for key in withheld:
        if key.startswith("satisfaction."):
            assert got["satisfaction"][key.partition(".")[2]] is None
        else:
            assert got[key] is None
    for key, value in shown.items():
        assert got[key] == value


@pytest.mark.gen_test
async def test_a_confidential_score_counted_for_another_department_is_withheld(store, clock):
    # re-routed after a 不满意: the judged department has no case of its own this period, only
    # the one score, which must not tell that a tax report judged it
    clock.set(T + 40 * D)
    await store.add_post(
        tax_report(
            ratings=[
                {
                    "source": "rating",
                    "score": "unsatisfied",
                    "department": "police",
                    "at": "2026-10-14T02:00:00Z",
                },
                {
                    "source": "rating",
                    "score": "satisfied",
                    "department": "tax",
                    "at": "2026-10-17T02:00:00Z",
                },
            ]
        )
    )
    report = await stats.report(store)
    police = report.departments["police"].as_dict()
    assert police["satisfaction"]["unsatisfied"] is None
    assert "satisfaction.unsatisfied" in police["withheld"]
    summary = stats.summarise(report, boards=("tax",))
    assert summary.received is None and summary.satisfaction_rate is None
    assert set(summary.withheld) == {"received", "replied", "completion_rate", "satisfaction_rate"}


@pytest.mark.gen_test
async def test_department_and_month_figures(cases_in):
    report = await stats.report(cases_in)
    housing = report.departments["housing"].as_dict()
    assert (housing["received"], housing["closed"], housing["completion_rate"]) == (2, 2, 1.0)
    assert report.departments["transport"].as_dict()["overdue"] == 1
    assert report.departments["police"].as_dict()["reply_rate"] is None  # nothing accepted
    assert sorted(report.months) == ["2026-10", "2026-11"]
    assert report.months["2026-11"].as_dict()["received"] == 1


@pytest.mark.gen_test
async def test_overdue_counts_now_whatever_the_period(cases_in):
    later = await stats.report(cases_in, "2026-11-01", "2026-12-01")
    assert later.boards["mayor"].as_dict()["received"] == 1
    assert later.boards["mayor"].as_dict()["overdue"] == 1


@pytest.mark.gen_test
async def test_bad_periods(store):
    from forum.errors import Invalid

    for since, until, field in (
        ("2026-13-01", None, "from"),
        (None, "yesterday", "to"),
        ("2026-11-02", "2026-11-01", "to"),
        # Found by schemathesis: year 1 overflowed when moved to UTC.
        ("0001-01-01", None, "from"),
        (None, "9999-12-31", "to"),
    ):
        with pytest.raises(Invalid) as caught:
            await stats.report(store, since, until)
        assert field in caught.value.fields


@pytest.mark.gen_test
async def test_the_cache_answers_without_recounting(cases_in):
    cache = stats_reports.ReportCache(seconds=300)
    first = await cache.get(cases_in)
    await cases_in.add_post(case())
    assert await cache.get(cases_in) is first
    fresh = await stats_reports.ReportCache(seconds=0).get(cases_in)
    assert fresh.boards["mayor"].received == first.boards["mayor"].received + 1


@pytest.mark.gen_test
async def test_the_cache_keys_reports_by_the_period_not_its_spelling(store):
    cache = stats_reports.ReportCache()
    first = await cache.get(store, "2026-01-01", "2026-02-01")
    assert await cache.get(store, "20260101", "20260201") is first
    assert await cache.get(store, "2026-01-01", None) is not first
    assert await cache.get(store, "", "") is await cache.get(store, None, None)
    with pytest.raises(Invalid):
        await cache.get(store, "someday")
    assert len(cache._reports) == 3


@pytest.mark.gen_test
async def test_a_cached_report_counts_a_new_case_within_half_a_minute(cases_in, clock):
    cache = stats_reports.ReportCache()
    first = await cache.get(cases_in)
    assert await cache.get(cases_in) is first  # nothing written: the same report
    await cases_in.add_post(case())
    clock.advance(seconds=10)
    assert await cache.get(cases_in) is first  # written, but within 30 s
    clock.advance(seconds=25)
    again = await cache.get(cases_in)
    assert again.boards["mayor"].received == first.boards["mayor"].received + 1
    clock.advance(seconds=100)
    assert await cache.get(cases_in) is again  # nothing written since


# the second release: every rating counts, unrated apart, merged once, areas, types, levels ------
def rating(score, department, source="rating", at=T):
    return {
        "at": at.isoformat(),
        "source": source,
        "score": score,
        "comment": None,
        "department": department,
        "reached": True if source == "callback" else None,
    }


REROUTED = case(
    # 不满意 with housing's reply, routed again to gov-hongta whose reply satisfied: the
    # 不满意 stays against housing, the 满意 counts for gov-hongta, the case for gov-hongta
    status=Status.CLOSED,
    department="gov-hongta",
    area="hongta",
    letter_type="complaint",
    accepted_at=T + H,
    routed_at=T + 3 * D,
    due_at=T + 20 * D,
    replied_at=T + D,
    closed_at=T + 10 * D,
    rating="satisfied",
    reopened=True,
    extended=True,
    supervised_at=T + 5 * D,
    ratings=[rating("unsatisfied", "housing"), rating("satisfied", "gov-hongta")],
)
SECOND_RELEASE = [
    REROUTED,
    # closed unrated: closed (办结) and counted apart, never satisfied; a callback that did not
    # reach the writer has no score and counts nowhere
    case(
        status=Status.UNRATED,
        department="housing",
        area="city",
        letter_type="consult",
        accepted_at=T + H,
        routed_at=T + H,
        due_at=T + 10 * D,
        replied_at=T + 2 * D,
        closed_at=T + 17 * D,
        ratings=[{**rating(None, "housing", "callback"), "reached": False}],
    ),
    # merged into the case above: the matter counts once
    case(
        status=Status.MERGED,
        area="hongta",
        letter_type="complaint",
        accepted_at=T + H,
        closed_at=T + 2 * H,
        merged_into=REROUTED.id,
    ),
    # a callback's 基本满意 counts like a rating; supervised once, the mark cleared by the reply
    case(
        status=Status.CLOSED,
        department="gov-hongta",
        area="hongta",
        letter_type="help",
        accepted_at=T + H,
        routed_at=T + H,
        due_at=T + 2 * D,
        replied_at=T + 4 * D,
        closed_at=T + 6 * D,
        rating=None,
        supervised=False,
        supervised_at=T + 3 * D,
        ratings=[rating("basically_satisfied", "gov-hongta", "callback")],
    ),
    # accepted and routed, not yet due when the report is made
    case(
        status=Status.ROUTED,
        department="police",
        area="city",
        letter_type="suggestion",
        accepted_at=T + H,
        routed_at=T + H,
        due_at=T + 100 * D,
    ),
    # a tax report has neither area nor type
    case(board="tax", status=Status.SUBMITTED),
]


@pytest.fixture(params=["sqlite", "mongodb"])
def second_release(request, io_loop, tmp_path, clock):
    from tests.support import stores
    from tests.support.apps import seeded

    store = stores.make(request.param, tmp_path)
    clock.set(T + 40 * D)

    async def load():
        await seeded(store)
        for post in SECOND_RELEASE:
            await store.add_post(post)

    io_loop.run_sync(load)
    yield store
    io_loop.run_sync(lambda: stores.dispose(store))


def counts(figures, *keys):
    found = figures.as_dict()
    return tuple(found[key] for key in keys)


@pytest.mark.gen_test
async def test_every_rating_counts_against_the_department_it_judged(second_release):
    report = await stats.report(second_release)
    housing, hongta = report.departments["housing"], report.departments["gov-hongta"]
    # housing leads one case (unrated), yet carries the 不满意 of the case now led by gov-hongta
    assert counts(housing, "received", "closed", "unrated") == (1, 1, 1)
    assert housing.satisfaction == {"satisfied": 0, "basically_satisfied": 0, "unsatisfied": 1}
    assert counts(hongta, "received", "closed", "extended", "supervised") == (2, 2, 1, 2)
    assert hongta.satisfaction == {"satisfied": 1, "basically_satisfied": 1, "unsatisfied": 0}
    # the board counts every score of its cases, the later satisfied reply and the 不满意 alike
    mayor = report.boards["mayor"]
    assert mayor.satisfaction == {"satisfied": 1, "basically_satisfied": 1, "unsatisfied": 1}


@pytest.mark.gen_test
async def test_unrated_apart_and_merged_once(second_release):
    mayor = (await stats.report(second_release)).boards["mayor"].as_dict()
    # five mayor letters, one merged: four received, the merged one in `merged` alone
    assert (mayor["received"], mayor["accepted"], mayor["replied"], mayor["closed"]) == (4, 4, 3, 3)
    assert (mayor["merged"], mayor["unrated"], mayor["extended"], mayor["supervised"]) == (
        1,
        1,
        1,
        2,
    )
    assert mayor["completion_rate"] == 0.75
    assert sum(mayor["satisfaction"].values()) == 3  # the unrated case is never satisfied
    assert mayor["not_yet_due"] == 1


@pytest.mark.gen_test
async def test_areas_types_and_levels(second_release):
    report = await stats.report(second_release)
    assert sorted(report.areas) == sorted(
        [
            "city",
            "hongta",
            "jiangchuan",
            "chengjiang",
            "tonghai",
            "huaning",
            "yimen",
            "eshan",
            "xinping",
            "yuanjiang",
        ]
    )
    assert counts(report.areas["hongta"], "received", "closed", "merged") == (2, 2, 1)
    assert counts(report.areas["city"], "received", "unrated", "not_yet_due") == (2, 1, 1)
    assert counts(report.areas["yimen"], "received") == (0,)
    assert counts(report.types["complaint"], "received", "merged") == (1, 1)
    assert report.types["complaint"].satisfaction["unsatisfied"] == 1
    assert counts(report.types["help"], "received", "supervised") == (1, 1)
    assert counts(report.types["praise"], "received") == (0,)
    bureau, county = report.levels["bureau"], report.levels["county"]
    assert counts(bureau, "received", "unrated") == (2, 1)  # housing and police
    assert counts(county, "received", "extended", "closed") == (2, 1, 2)
    # levels follow the department judged for scores, as departments do
    assert bureau.satisfaction["unsatisfied"] == 1 and county.satisfaction["unsatisfied"] == 0
    # a tax report counts for its board only
    assert (
        report.boards["tax"].received == 1 and sum(f.received for f in report.types.values()) == 4
    )


@pytest.mark.gen_test
async def test_a_month_not_yet_due_is_told_apart(second_release):
    report = await stats.report(second_release)
    police = report.departments["police"]
    assert police.not_yet_due_only and police.as_dict()["reply_rate"] == 0.0
    assert not report.departments["housing"].not_yet_due_only
