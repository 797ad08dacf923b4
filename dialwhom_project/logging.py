"""Log formatting: secrets masked in every line, plain text or one JSON object.

The webhook token is the only thing that authenticates Exotel, and it travels in
the path (`/exotel/<token>/...`); an agent's personal link likewise (`/me/<token>/`).
Every handler the service configures, Django's and gunicorn's, formats through
`mask_secrets`: the path part after `/exotel/` or `/me/` becomes `***`, and any
configured token found anywhere else in the line (percent-encoded included) too.

A log line is one line: a message's control characters (CR, LF, NUL, the other
line breaks) are written as escapes (`\\n`, `\\x00`), and the decoding that
finds a percent-encoded token leaves encoded ones (`%0A`) encoded, so no request
can start a forged line. Tracebacks keep their own lines.
"""

import datetime as dt
import json
import logging
import os
import re
import urllib.parse

# The secret path part, wherever a path appears (request lines, URLs, reprs).
_SECRET_PATH_PART = re.compile(r"(/(?:exotel|me)/)[^/?#\s\"'<>\\]+")
MASK = "***"
# What ends a line or hides in one (str.splitlines' breaks and the C0 controls but
# tab), and the same characters percent-encoded (UTF-8).
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x80-\x9f\u2028\u2029]")
_ENCODED_CONTROL = re.compile(
    r"%(?:[01][0-9a-f]|7f|c2%[89][0-9a-f]|e2%80%a[89])", re.IGNORECASE
)
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\x00": "\\x00"}
# Environment variables that hold secrets which must never be logged.
SECRET_VARIABLES = (
    "DIALWHOM_WEBHOOK_TOKEN",
    "DIALWHOM_WEBHOOK_TOKEN_PREVIOUS",
    "DIALWHOM_METRICS_TOKEN",
)


def configured_secrets() -> list[str]:
    """Return the secrets from the environment and settings, longest first."""
    values = {os.environ.get(name, "") for name in SECRET_VARIABLES}
    from django.conf import settings

    if settings.configured:
        values.update(getattr(settings, "DIALWHOM_WEBHOOK_TOKENS", ()))
        values.add(getattr(settings, "DIALWHOM_METRICS_TOKEN", ""))
    return sorted((value for value in values if len(value) >= 4), key=len, reverse=True)


def one_line(text: str) -> str:
    """Return `text` with every control character and line break escaped."""
    # Above the C0 controls, JSON's escape: a JSON line stays valid JSON.
    return _CONTROL.sub(
        lambda found: (
            _ESCAPES.get(found[0], f"\\x{ord(found[0]):02x}")
            if ord(found[0]) < 0x7F
            else f"\\u{ord(found[0]):04x}"
        ),
        text,
    )


def _one_line_record(record: logging.LogRecord) -> logging.LogRecord:
    """Return `record`, or a copy whose message is `one_line`'s."""
    message = record.getMessage()
    safe = one_line(message)
    if safe == message:
        return record
    return logging.makeLogRecord({**record.__dict__, "msg": safe, "args": ()})


def mask_secrets(text: str, secrets: list[str] | None = None) -> str:
    """Return `text` with secret path parts and configured secrets replaced by ***."""
    if secrets is None:
        secrets = configured_secrets()
    text = _SECRET_PATH_PART.sub(rf"\1{MASK}", text)
    for secret in secrets:
        text = text.replace(secret, MASK)
    if "%" in text:
        # Encoded control characters stay encoded: decoded, they would break the line.
        decoded = urllib.parse.unquote(
            _ENCODED_CONTROL.sub(lambda found: found[0].replace("%", "%25"), text)
        )
        if decoded != text and (
            _SECRET_PATH_PART.search(decoded.replace(f"/{MASK}", ""))
            or any(secret in decoded for secret in secrets)
        ):
            # The secret was percent-encoded: log the decoded line, masked.
            return mask_secrets(decoded, secrets)
    return text


class MaskingFormatter(logging.Formatter):
    """A formatter whose every line goes through `mask_secrets`.

    `inner` formats the record when given (to wrap a formatter made elsewhere,
    such as gunicorn's).
    """

    def __init__(self, *args, inner: logging.Formatter | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.inner = inner

    def format(self, record: logging.LogRecord) -> str:
        record = _one_line_record(record)
        formatted = self.inner.format(record) if self.inner else super().format(record)
        return mask_secrets(formatted)


# Attributes every LogRecord has; anything else was passed in `extra=`.
_RECORD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__
) | {"message", "asctime", "taskName"}


class JsonFormatter(MaskingFormatter):
    """Format a record as one JSON line: time, level, logger, message, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            (key, value)
            for key, value in record.__dict__.items()
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_")
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Masked as text: a value such as Django's request object carries its path.
        # json.dumps escapes the C0 controls, `one_line` the other line breaks.
        return mask_secrets(
            one_line(json.dumps(entry, default=str, ensure_ascii=False))
        )


def gunicorn_logger_class():
    """Return gunicorn's Logger with masking formatters, and mask its error pages.

    gunicorn.conf.py names this as `logger_class` (gunicorn calls it).
    """
    from gunicorn import glogging, util

    original_write_error = util.write_error

    def write_error(sock, status_int, reason, mesg):
        # gunicorn's 400 page echoes the malformed request line, token and all.
        return original_write_error(sock, status_int, reason, mask_secrets(mesg))

    if not getattr(util.write_error, "masks_secrets", False):
        write_error.masks_secrets = True
        util.write_error = write_error

    class GunicornLogger(glogging.Logger):
        """gunicorn's logger, every handler's output masked (access log included)."""

        def setup(self, cfg):
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    if not isinstance(handler.formatter, MaskingFormatter):
                        handler.setFormatter(MaskingFormatter(inner=handler.formatter))

    return GunicornLogger
