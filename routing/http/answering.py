"""What every Exotel-facing view shares: the path token, the plain-text answer, the log line."""

import logging
import time

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare

logger = logging.getLogger("routing.requests")


def check_webhook_token(token: str) -> None:
    """Answer 404 unless `token` is a configured webhook token (constant time)."""
    valid = False
    for expected in settings.DIALWHOM_WEBHOOK_TOKENS:
        valid |= constant_time_compare(token, expected)
    if not valid:
        raise Http404("not found")


def text_response(body: str, status: int = 200) -> HttpResponse:
    """Return `body` as Exotel reads answers: text/plain."""
    return HttpResponse(body, status=status, content_type="text/plain")


def log_request_line(
    request: HttpRequest,
    *,
    endpoint: str,
    group: str,
    response: HttpResponse,
    started: float,
    error: str = "",
    degraded: bool = False,
) -> None:
    """Write the request's one log line (fields for DJANGO_LOG_FORMAT=json)."""
    fields = {
        "endpoint": endpoint,
        "call_sid": request.GET.get("CallSid", "")[:64],
        "group": group,
        "status": response.status_code,
        "numbers": response.content.decode().split(",")
        if response.status_code == 200 and response.content
        else [],
        "dial_call_status": request.GET.get("DialCallStatus", "")[:20],
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "degraded": degraded,
        "error": error[:300],
    }
    logger.log(
        logging.ERROR if degraded else logging.INFO,
        "%(endpoint)s %(call_sid)s group=%(group)s status=%(status)s "
        "numbers=%(numbers)s ms=%(ms)s degraded=%(degraded)s %(error)s",
        fields,
        extra=fields,
    )
