"""clean_text and clean_date: what services accept from forms and the API, and the messages for what they refuse."""

import datetime as dt

import pytest

from tamarind.core.errors import ValidationFailed
from tamarind.core.values import clean_date, clean_text


def test_clean_text():
    assert clean_text(None, "summary") == ""
    assert clean_text("  a\x00b  ", "summary") == "ab"
    assert clean_text("abc", "summary", max_length=3) == "abc"
    for value, kwargs, message in [
        (3, {}, "Must be text."),
        ("   ", {"required": True}, "This field is required."),
        ("abcd", {"max_length": 3}, "At most 3 characters."),
    ]:
        with pytest.raises(ValidationFailed) as err:
            clean_text(value, "summary", **kwargs)
        assert err.value.errors == {"summary": [message]}


def test_clean_date():
    assert clean_date(None, "due_on") is None and clean_date("", "due_on") is None
    assert clean_date("2026-11-23", "due_on") == dt.date(2026, 11, 23)
    assert clean_date(dt.date(2026, 1, 2), "due_on") == dt.date(2026, 1, 2)
    for value in ["23/11/2026", 20261123, dt.datetime(2026, 11, 23, 9)]:
        with pytest.raises(ValidationFailed) as err:
            clean_date(value, "due_on")
        assert list(err.value.errors) == ["due_on"]
