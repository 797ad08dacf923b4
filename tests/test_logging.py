"""Every log line the service formats has its secrets masked."""

import json
import logging

import pytest
from django.test import RequestFactory

from dialwhom_project.logging import JsonFormatter, MaskingFormatter, mask_secrets

TOKEN = "0123456789abcdef0123"


@pytest.fixture(autouse=True)
def _token(monkeypatch, settings):
    monkeypatch.setenv("DIALWHOM_WEBHOOK_TOKEN", TOKEN)
    settings.DIALWHOM_WEBHOOK_TOKENS = [TOKEN, "previous-token-xyz"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (f"GET /exotel/{TOKEN}/dial-whom/sales/", "GET /exotel/***/dial-whom/sales/"),
        (
            f"Bad Request: /exotel/{TOKEN}/passthru/",
            "Bad Request: /exotel/***/passthru/",
        ),
        ("/exotel/wrong-guess/dial-whom/", "/exotel/***/dial-whom/"),
        (f"/exotel/{TOKEN}", "/exotel/***"),
        ("/me/personal-token-abc/", "/me/***/"),
        (f"token={TOKEN} elsewhere", "token=*** elsewhere"),
        ("previous-token-xyz in a message", "*** in a message"),
        ("/exotel/" + "".join(f"%{ord(c):02x}" for c in TOKEN) + "/x", "/exotel/***/x"),
        ("/exotel%2F" + TOKEN + "%2Fpassthru", "/exotel/***/passthru"),
        ("GET /healthz 200", "GET /healthz 200"),
    ],
    ids=[
        "request-line",
        "django-bad-request",
        "wrong-token-too",
        "path-end",
        "personal-link",
        "token-outside-a-path",
        "previous-token",
        "percent-encoded-token",
        "percent-encoded-slashes",
        "nothing-to-mask",
    ],
)
def test_mask_secrets(text, masked):
    assert mask_secrets(text) == masked


def record(message, *args, exc_info=None, **extra):
    entry = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, message, args, exc_info
    )
    entry.__dict__.update(extra)
    return entry


def test_plain_lines_and_tracebacks_are_masked():
    try:
        raise RuntimeError(f"failed on /exotel/{TOKEN}/dial-whom/")
    except RuntimeError as error:
        exc_info = (type(error), error, error.__traceback__)
    line = MaskingFormatter("%(levelname)s %(message)s").format(
        record("Internal Server Error: %s", f"/exotel/{TOKEN}/x/", exc_info=exc_info)
    )

    assert TOKEN not in line
    assert "Internal Server Error: /exotel/***/x/" in line
    assert "failed on /exotel/***/dial-whom/" in line


def test_json_lines_mask_the_request_object_django_passes():
    request = RequestFactory().get(f"/exotel/{TOKEN}/dial-whom/")
    line = JsonFormatter().format(
        record("Not Found: %s", request.path, request=request, status_code=404)
    )

    assert TOKEN not in line
    entry = json.loads(line)
    assert entry["message"] == "Not Found: /exotel/***/dial-whom/"
    assert "/exotel/***/dial-whom/" in entry["request"]


FORGED = "sid\r\nFAKE 2026-01-01 INFO routing.requests forged\x00\u2028line\x85"


def test_a_forged_line_stays_in_its_own_line():
    line = MaskingFormatter("%(levelname)s %(message)s").format(
        record("dial-whom %s status=%s", FORGED, "no\nanswer")
    )
    assert line.splitlines() == [line]
    assert "\x00" not in line
    assert line == (
        "WARNING dial-whom sid\\r\\nFAKE 2026-01-01 INFO routing.requests "
        "forged\\x00\\u2028line\\u0085 status=no\\nanswer"
    )


def test_a_forged_json_line_stays_one_json_line():
    line = JsonFormatter().format(record("%s", FORGED, call_sid=FORGED))
    assert line.splitlines() == [line]
    entry = json.loads(line)
    assert entry["call_sid"] == FORGED and entry["message"] == FORGED


@pytest.mark.parametrize(
    "encoded", ["%0A", "%0d", "%00", "%C2%85", "%E2%80%A8", "%1b", "%7F"]
)
def test_decoding_a_masked_line_leaves_encoded_line_breaks_encoded(encoded):
    text = f"GET /exotel/{TOKEN}/dial-whom/?CallSid=a{encoded}FORGED HTTP/1.1"
    masked = mask_secrets(text)
    assert TOKEN not in masked
    assert masked.splitlines() == [masked] and "\x00" not in masked
    assert masked == f"GET /exotel/***/dial-whom/?CallSid=a{encoded}FORGED HTTP/1.1"


@pytest.mark.django_db
def test_the_request_log_line_of_a_forged_call_sid_is_one_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="routing.requests"):
        client.get(
            f"/exotel/{TOKEN}/passthru/",
            {"CallSid": "a\r\nFORGED", "DialCallStatus": "busy\nFORGED"},
        )
    (entry,) = [r for r in caplog.records if r.name == "routing.requests"]
    line = MaskingFormatter("%(message)s").format(entry)
    assert line.splitlines() == [line] and "\\r\\nFORGED" in line
