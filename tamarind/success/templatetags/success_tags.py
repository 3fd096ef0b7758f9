"""Template filters of the success app: Markdown rendered safely (raw HTML escaped, unsafe links refused)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt

register = template.Library()

# CommonMark with raw HTML off: any HTML in the text is shown as text, and markdown-it's link validation refuses
# javascript:, vbscript:, file: and data: (other than images) URLs.
_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@register.filter(name="markdown")
def markdown(text: str | None) -> SafeString:
    """The Markdown ``text`` as HTML, safe to put on a page."""
    return mark_safe(_MD.render(text or ""))  # noqa: S308 - html is off: markdown-it escapes every raw tag
