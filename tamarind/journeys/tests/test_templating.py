"""Merge fields: the whitelist, refusals naming the field, safe substitution and HTML."""

from __future__ import annotations

import pytest

from tamarind.core.errors import ValidationFailed
from tamarind.journeys import templating


def test_known_fields_pass_and_render() -> None:
    text = "Hi {{ contact.name }} at {{account.name}}: {{ unsubscribe_url }}"
    templating.check(text, field="body", survey=False)
    assert (
        templating.render(text, {"contact.name": "Ann", "account.name": "Acme", "unsubscribe_url": "U"})
        == "Hi Ann at Acme: U"
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("Hi {{ contact.phone }}", "contact.phone"),
        ("{{ contact.name|upper }}", "contact.name|upper"),
        ("{{ account.tam.password }}", "account.tam.password"),
        ("{{ settings.SECRET_KEY }}", "settings.SECRET_KEY"),
    ],
)
def test_unknown_field_is_refused_by_name(text: str, named: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        templating.check(text, field="body", survey=False)
    assert named in exc.value.errors["body"][0]


def test_tags_and_survey_only_fields_refused() -> None:
    with pytest.raises(ValidationFailed):
        templating.check("{% load x %}", field="body", survey=False)
    with pytest.raises(ValidationFailed) as exc:
        templating.check("{{ survey_url }}", field="subject", survey=False)
    assert "survey" in exc.value.errors["subject"][0]
    templating.check("{{ survey_url }}", field="body", survey=True)


def test_values_are_not_re_expanded_and_html_is_escaped() -> None:
    out = templating.render("{{ contact.name }}", {"contact.name": "{{ account.name }}<b>"})
    assert out == "{{ account.name }}<b>"
    html = templating.to_html("Hi <b>Ann</b>\nsee https://x.example/a?b=1&c=2.\n\nBye", link=lambda u: "T:" + u)
    assert "&lt;b&gt;Ann&lt;/b&gt;" in html
    assert '<a href="T:https://x.example/a?b=1&amp;c=2">https://x.example/a?b=1&amp;c=2</a>.' in html
    assert html.count("<p>") == 2 and "<br>" in html
