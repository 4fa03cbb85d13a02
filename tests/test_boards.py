"""The boards and departments that exist from the first start (forum/boards.py)."""

from __future__ import annotations

from forum import boards
from forum.model import Kind


def test_six_boards_in_order_with_their_kinds():
    assert boards.BOARD_ORDER == ("forum", "lawyer", "tax", "agri", "mayor", "hotline")
    assert set(boards.POLICIES) == set(boards.BOARD_ORDER)
    kinds = {slug: p.kind for slug, p in boards.POLICIES.items()}
    assert kinds == {
        "forum": Kind.DISCUSSION,
        "lawyer": Kind.CONSULTATION,
        "agri": Kind.CONSULTATION,
        "tax": Kind.CASE,
        "mayor": Kind.CASE,
        "hotline": Kind.BULLETIN,
    }


def test_only_the_tax_board_is_confidential_and_open_to_visitors():
    assert [p.slug for p in boards.POLICIES.values() if p.confidential] == ["tax"]
    assert [p.slug for p in boards.POLICIES.values() if p.visitors_may_post] == ["tax"]


def test_departments_listed_in_the_spec():
    bureaus = {d.slug for d in boards.DEPARTMENTS if d.kind == "bureau"}
    assert bureaus == {
        "xinfang",
        "tax",
        "agri",
        "justice",
        "hrss",
        "housing",
        "police",
        "market",
        "education",
        "health",
        "environment",
        "transport",
    }
    assert dict((d.slug, d.name) for d in boards.DEPARTMENTS)["xinfang"] == "市信访局"


def test_each_county_level_division_is_an_area_with_its_government_a_county_department():
    counties = {d.slug for d in boards.DEPARTMENTS if d.kind == "county"}
    assert counties == {f"gov-{area}" for area in boards.AREAS if area != "city"}
    assert len(counties) == 9
    assert boards.LETTER_TYPES.keys() == {"consult", "complaint", "suggestion", "help", "praise"}


def test_every_kind_has_an_initial_and_public_status():
    for kind in Kind:
        assert kind in boards.INITIAL_STATUS and boards.PUBLIC_STATUSES[kind]
