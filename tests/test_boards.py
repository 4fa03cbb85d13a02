"""The boards and departments that exist from the first start (forum/boards.py)."""
from __future__ import annotations

from forum import boards
from forum.model import Kind


def test_six_boards_in_order_with_their_kinds():
    assert boards.BOARD_ORDER == ("forum", "lawyer", "tax", "agri", "mayor", "hotline")
    assert set(boards.POLICIES) == set(boards.BOARD_ORDER)
    kinds = {slug: p.kind for slug, p in boards.POLICIES.items()}
    assert kinds == {"forum": Kind.DISCUSSION, "lawyer": Kind.CONSULTATION, "agri": Kind.CONSULTATION,
                     "tax": Kind.CASE, "mayor": Kind.CASE, "hotline": Kind.BULLETIN}


def test_only_the_tax_board_is_confidential_and_open_to_visitors():
    assert [p.slug for p in boards.POLICIES.values() if p.confidential] == ["tax"]
    assert [p.slug for p in boards.POLICIES.values() if p.visitors_may_post] == ["tax"]


def test_departments_listed_in_the_spec():
    assert {d.slug for d in boards.DEPARTMENTS} == {
        "xinfang", "tax", "agri", "justice", "hrss", "housing", "police", "market", "education",
        "health", "environment", "transport"}
    assert dict((d.slug, d.name) for d in boards.DEPARTMENTS)["xinfang"] == "市信访局"


def test_every_kind_has_an_initial_and_public_status():
    for kind in Kind:
        assert kind in boards.INITIAL_STATUS and boards.PUBLIC_STATUSES[kind]
