"""clean_text and clean_date: what services accept from forms and the API, and the messages for what they refuse."""

import datetime as dt

import pytest

from tamarind.core.errors import ValidationFailed
from tamarind.core.values import clean_date, clean_text, input_problem


def test_clean_text():
    assert clean_text(None, "summary") == ""
    assert clean_text("  ab  ", "summary") == "ab"
    assert clean_text("abc", "summary", max_length=3) == "abc"
    for value, kwargs, message in [
        (3, {}, "Must be text."),
        ("   ", {"required": True}, "This field is required."),
        ("abcd", {"max_length": 3}, "At most 3 characters."),
        ("a\x00b", {}, "Must not contain NUL characters."),
    ]:
        with pytest.raises(ValidationFailed) as err:
            clean_text(value, "summary", **kwargs)
        assert err.value.errors == {"summary": [message]}


def test_clean_date():
    assert clean_date(None, "due_on") is None and clean_date("", "due_on") is None
    assert clean_date("2026-11-23", "due_on") == dt.date(2026, 11, 23)
    assert clean_date(dt.date(2026, 1, 2), "due_on") == dt.date(2026, 1, 2)
    for value in ["23/11/2026", 20261123, dt.datetime(2026, 11, 23, 9), "9999-12-31", "0001-01-01", dt.date.max]:
        with pytest.raises(ValidationFailed) as err:
            clean_date(value, "due_on")
        assert list(err.value.errors) == ["due_on"]


def test_input_problem():
    assert input_problem("plain") is None and input_problem(2**63 - 1) is None and input_problem(True) is None
    assert input_problem(dt.date(1900, 1, 1)) is None and input_problem(dt.date(2999, 12, 31)) is None
    assert input_problem("a\x00") == "Must not contain NUL characters."
    assert input_problem(2**63) == input_problem(-(2**63) - 1) == f"Must be between {-(2**63)} and {2**63 - 1}."
    assert input_problem(dt.date(9999, 12, 31)) == "Must be between 1900-01-01 and 2999-12-31."
    moment = dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=14)))
    assert input_problem(moment) == "Must be between 1900-01-01 and 2999-12-31."
    assert input_problem({"rows": [{"n": 1}, {"k\x00": 2}]}) == "Must not contain NUL characters."
    assert input_problem([1, [2, 2**64]]) is not None
