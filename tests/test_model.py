"""Small pieces of forum/model.py that the API's format depends on."""

from __future__ import annotations

import datetime as dt

from forum.model import iso


def test_iso_times_are_utc_with_four_digit_years():
    # Found by schemathesis: strftime wrote year 389 as "389", which is not an RFC 3339 time.
    early = dt.datetime(389, 6, 14, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert iso(early) == "0389-06-13T16:00:00.000Z"
    assert (
        iso(dt.datetime(2026, 11, 28, 9, 30, 0, 123456, tzinfo=dt.timezone.utc))
        == "2026-11-28T09:30:00.123Z"
    )
    assert iso(None) is None
