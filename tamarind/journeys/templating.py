"""Merge fields of the journey's email templates: a fixed whitelist, checked before saving, substituted by hand.

A template is plain text with ``{{ field }}`` placeholders. Only the names in ``FIELDS`` are allowed (no filters,
no tags, no attribute walks): a template naming anything else is refused with the field's name. Rendering is a
plain substitution of already-computed strings, so a template can reach nothing but those values; the HTML part
escapes the result and then turns bare links into (tracked) anchors.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from django.utils.html import escape

from tamarind.core.errors import ValidationFailed

FIELDS: dict[str, str] = {
    "contact.name": "The contact's full name.",
    "contact.first_name": "The contact's first name.",
    "contact.email": "The contact's email address.",
    "account.name": "The customer account's name.",
    "tam.name": "The account's TAM (or 'the Tamarind team' when there is none).",
    "tam.email": "The TAM's email address (or the sender's).",
    "program.name": "The program's name.",
    "unsubscribe_url": "The contact's unsubscribe link (added at the end when a template leaves it out).",
    "survey_url": "The survey's link: survey steps only (added at the end when left out).",
    "webinar.title": "The webinar session's title: webinar steps only.",
    "webinar.date": "The session's date and time (e.g. Tuesday 12 May 2026, 16:00 UTC): webinar steps only.",
    "webinar.topic": "The session's topic: webinar steps only.",
    "webinar.url": "The contact's registration link: webinar steps only (added at the end when left out).",
}
SURVEY_ONLY = {"survey_url"}
WEBINAR_ONLY = {"webinar.title", "webinar.date", "webinar.topic", "webinar.url"}

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
TAG = re.compile(r"\{%|%\}|\{#|#\}")
URL = re.compile(r"https?://[^\s<>\"']+")


def fields_in(text: str) -> list[str]:
    """The placeholders of ``text``, stripped, in order."""
    return [m.group(1).strip() for m in PLACEHOLDER.finditer(text)]


def check(text: str, *, field: str, survey: bool, webinar: bool = False) -> None:
    """Refuse ``text`` (the template named ``field``) if it names an unknown merge field, a field of another kind
    of step, or uses template tags."""
    if TAG.search(text):
        raise ValidationFailed({field: ["Template tags ({% ... %}) are not allowed; use {{ field }} merge fields."]})
    for name in fields_in(text):
        if name not in FIELDS:
            allowed = ", ".join(sorted(FIELDS))
            raise ValidationFailed({field: [f"Unknown merge field {{{{ {name} }}}}; use one of: {allowed}."]})
        if name in SURVEY_ONLY and not survey:
            raise ValidationFailed({field: [f"{{{{ {name} }}}} is only available in survey steps."]})
        if name in WEBINAR_ONLY and not webinar:
            raise ValidationFailed({field: [f"{{{{ {name} }}}} is only available in webinar invitation steps."]})


def render(text: str, values: Mapping[str, str]) -> str:
    """Substitute the placeholders of a checked template (an unknown one renders empty: never the raw text)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1).strip(), ""), text)


def to_html(text: str, *, link: Callable[[str], str] | None = None) -> str:
    """The HTML part of a rendered plain-text body: escaped, paragraphs and line breaks kept, bare http(s) links made
    anchors (their target passed through ``link``, the click tracking, when given)."""
    out: list[str] = []
    pos = 0
    for m in URL.finditer(text):
        out.append(escape(text[pos : m.start()]))
        url = m.group(0).rstrip(".,;:!?)")
        target = link(url) if link else url
        out.append(f'<a href="{escape(target)}">{escape(url)}</a>')
        pos = m.start() + len(url)
    out.append(escape(text[pos:]))
    paragraphs = "".join(out).split("\n\n")
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paragraphs if p.strip())
