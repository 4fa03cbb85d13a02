"""forum/services/fields.py: what a check gives once Fields.done() has passed."""

from __future__ import annotations

from typing import Any

import pytest

from forum.errors import Invalid
from forum.services import forms
from forum.services.fields import MISSING, Choice, Day, Definition, Fields, Flag, Whole, required


def test_a_required_field_is_its_checked_value_once_done_passes() -> None:
    fields = Fields()
    name = fields.text("name", "  张三 ", max_len=10)
    fields.done()
    assert required(name) == "张三"


def test_a_required_field_that_fails_never_gets_past_done() -> None:
    fields = Fields()
    fields.text("name", "   ", max_len=10)
    with pytest.raises(Invalid):
        fields.done()


def test_an_optional_field_used_as_required_is_the_callers_slip() -> None:
    fields = Fields()
    note = fields.text("note", None, max_len=10, required=False)
    fields.done()
    with pytest.raises(AssertionError):
        required(note)


# definitions ---------------------------------------------------------------------------------
def errors_of(definition: Definition[object], value: Any) -> tuple[object, dict[str, str]]:
    fields = Fields()
    return fields.take(definition, "f", value), fields.errors


def test_a_required_whole_number_is_missing_when_absent_or_blank_and_wrong_before_missing() -> None:
    days = Whole(1, 15, required=True)
    assert errors_of(days, None) == (None, {"f": MISSING})
    assert errors_of(days, "") == (None, {"f": MISSING})
    assert errors_of(days, "x") == (None, {"f": "应为整数"})
    assert errors_of(days, "16") == (None, {"f": "应在 1 到 15 之间"})
    assert errors_of(days, "3") == (3, {})
    assert errors_of(Whole(1, 15), None) == (None, {})


def test_a_required_flag_is_missing_when_absent_and_an_optional_one_takes_its_default() -> None:
    assert errors_of(Flag(required=True), None) == (False, {"f": MISSING})
    assert errors_of(Flag(default=True), None) == (True, {})
    assert errors_of(Flag(), "yes")[1] == {"f": "类型错误：应为 true 或 false"}


def test_a_day_is_a_calendar_date() -> None:
    assert errors_of(Day(), " 2026-02-03 ") == ("2026-02-03", {})
    assert errors_of(Day(), "2026-02-30") == (None, {"f": "日期格式应为 YYYY-MM-DD"})
    assert errors_of(Day(required=False), None) == (None, {})


def test_a_choice_known_at_the_request_lists_what_it_was_given() -> None:
    chosen, errors = errors_of(Choice(required=True).among(["b", "a"]), "c")
    assert chosen is None and str(errors["f"]) == "可选值：b、a"
    assert errors_of(Choice(("x",)), "x") == ("x", {})


def test_the_forms_definitions_check_as_the_imperative_checks_do() -> None:
    fields, imperative = Fields(), Fields()
    for value in (None, "", "  a  ", "a" * 121, "标题\u200b", "\x00"):
        assert fields.take(forms.TITLE, "t", value) == imperative.text(
            "t", value, max_len=120, naming=True
        )
        assert fields.errors == imperative.errors
        fields.errors.clear()
        imperative.errors.clear()
