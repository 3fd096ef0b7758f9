"""Keeping secrets out of logs: API tokens, ``Authorization`` values, passwords, session and CSRF cookies.

``redact`` rewrites text; ``RedactSecretsFilter`` applies it to every record a handler in ``settings.LOGGING``
emits (message, arguments, traceback); ``AdminEmailHandler`` redacts the error emails (whose body is Django's
exception report, built outside the log record); ``GunicornLogger`` does the same for gunicorn's access and
error logs, which do not go through Django's logging configuration.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.conf import settings
from django.utils.log import AdminEmailHandler as DjangoAdminEmailHandler
from django.views.debug import SafeExceptionReporterFilter
from gunicorn.glogging import Logger as GunicornBaseLogger

REDACTED = "[REDACTED]"

# An API token anywhere (a bare ``Authorization: tmd_...``, a query string, a traceback).
_TOKEN = re.compile(r"\btmd_[A-Za-z0-9_\-]+")
# An Authorization scheme and its credentials, wherever the header's value is echoed.
_SCHEME = re.compile(r"\b(Bearer|Basic|Token|Digest|ApiKey)([ \t]+)[A-Za-z0-9._~+/=\-]{8,}", re.IGNORECASE)
# ``name=value`` / ``name: value`` / ``"name": "value"`` / ``'HTTP_COOKIE': '...'`` for secret-bearing names.
_SECRET_NAMES = (
    r"(?:http_)?(?:proxy[-_])?authorization|(?:http_)?cookie|set-cookie"
    r"|[\w-]*password[\w-]*|passwd|[\w-]*secret[\w-]*|[\w-]*token|api[-_]?key|sessionid|csrfmiddlewaretoken"
)
_KEY_VALUE = re.compile(
    r"(?P<key>\b(?:" + _SECRET_NAMES + r"))"
    r"(?P<sep>[\"']?[ \t]*[:=][ \t]*)"
    r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'"
    # An unquoted value, with its scheme if it has one ("<token>" in a help text is no secret).
    r"|(?:(?:Bearer|Basic|Token|Digest)[ \t]+|(?!(?:Bearer|Basic|Token|Digest)\b))[^\s&,;\"'<>}\]\)]+)",
    re.IGNORECASE,
)


def _mask_value(match: re.Match[str]) -> str:
    value = match.group("value")
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group('key')}{match.group('sep')}{quote}{REDACTED}{quote}"


def redact(text: str) -> str:
    """``text`` with every secret this project knows the shape of replaced by ``[REDACTED]``."""
    if not text:
        return text
    text = _KEY_VALUE.sub(_mask_value, text)
    text = _SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _TOKEN.sub("tmd_" + REDACTED, text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message (with its arguments merged in) and its traceback text through ``redact``.

    Installed on every handler of ``settings.LOGGING``; a record is never dropped, only cleaned."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: keep what can be shown, without its arguments
            message = str(record.msg)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class SecretsReporterFilter(SafeExceptionReporterFilter):
    """Django's exception-report filter, also hiding POST fields and frame variables with a secret's name
    (``password``, ``token``, ``csrfmiddlewaretoken``...), not only those marked ``sensitive_*``."""

    def get_post_parameters(self, request: Any) -> Any:
        params = super().get_post_parameters(request)
        if not params:
            return params
        cleansed = params.copy()
        for key in list(cleansed):
            if self.hidden_settings.search(key):
                cleansed[key] = self.cleansed_substitute
        return cleansed

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [
            (name, self.cleansed_substitute if self.hidden_settings.search(name) else value)
            for name, value in super().get_traceback_frame_variables(request, tb_frame)
        ]


class AdminEmailHandler(DjangoAdminEmailHandler):
    """Django's error email, redacted: its body (the exception report with the request's GET, POST, headers and
    the frames' local variables) is built here rather than from the log record, so the filter cannot reach it."""

    def emit(self, record: logging.LogRecord) -> None:
        if not settings.ADMINS:
            return
        super().emit(record)

    def send_mail(self, subject: Any, message: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("html_message"):
            kwargs["html_message"] = redact(str(kwargs["html_message"]))
        super().send_mail(redact(str(subject)), redact(str(message)), *args, **kwargs)


class GunicornLogger(GunicornBaseLogger):
    """gunicorn's logger with ``RedactSecretsFilter`` on its access and error handlers: the access line carries
    the query string, the referer and (by gunicorn's default format) the user of a ``Basic`` header."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, RedactSecretsFilter) for f in handler.filters):
                    handler.addFilter(RedactSecretsFilter())
