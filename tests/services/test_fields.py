"""forum/services/fields.py: what a check gives once Fields.done() has passed."""
from __future__ import annotations

import pytest

from forum.errors import Invalid
from forum.services.fields import Fields, required


def test_a_required_field_is_its_checked_value_once_done_passes():
    fields = Fields()
    name = fields.text("name", "  张三 ", max_len=10)
    fields.done()
    assert required(name) == "张三"


def test_a_required_field_that_fails_never_gets_past_done():
    fields = Fields()
    fields.text("name", "   ", max_len=10)
    with pytest.raises(Invalid):
        fields.done()


def test_an_optional_field_used_as_required_is_the_callers_slip():
    fields = Fields()
    note = fields.text("note", None, max_len=10, required=False)
    fields.done()
    with pytest.raises(AssertionError):
        required(note)
