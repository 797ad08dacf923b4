"""What every Exotel-facing view shares: the path token, the routing call, text answers, the log line.

Dial Whom and Programmable Connect make the same routing call (`answer_call`) and
differ only in how they write its numbers (`render`, `render_numbers`); an outage
is answered for both from the last-known list (`routing.outage.degraded`), in the
endpoint's own shape.
"""

import logging
import time
from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from routing.calls import services
from routing.calls.requestlog import Received, log_request
from routing.exotel.requests import (
    ExotelRequest,
    ExotelRequestError,
    parse_exotel_request,
)
from routing.outage import degraded, last_known
from routing.outage.deadline import database_deadline

logger = logging.getLogger("routing.requests")

# What an unreachable, stopped or hung database raises (psycopg's errors wrapped
# by Django; the deadline's watchdog makes a hang one of these too).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


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


def answer_call(
    request: HttpRequest,
    received: Received,
    group_slug: str | None,
    *,
    render: Callable[[services.RouteAnswer], HttpResponse],
    render_numbers: Callable[[list[str]], HttpResponse],
) -> HttpResponse:
    """Parse, make the one routing service call, render its answer.

    With the database unreachable, answer the last-known list through
    `render_numbers`, or 503 (Exotel's Fallback URL) without one.
    """
    try:
        exotel_request = parse_exotel_request(request.GET)
    except ExotelRequestError as rejection:
        return reject(request, received, str(rejection), 400, group_slug)
    now = timezone.now()
    try:
        with database_deadline():
            answer = services.route_call(
                request=exotel_request,
                group_slug=group_slug,
                now=now,
                received=received,
            )
    except services.UnknownGroup:
        return reject(request, received, f"unknown group {group_slug!r}", 404, "")
    except services.CallContention as contention:
        # Exotel then asks the Fallback URL, which decides afresh.
        return reject(request, received, str(contention), 503, group_slug)
    except DATABASE_UNAVAILABLE as failure:
        connection.close()  # a broken persistent connection must not be reused
        return _answer_degraded(
            request, received, exotel_request, group_slug, failure, render_numbers
        )
    # Committed: from here on nothing may turn this answer into another one.
    response = render(answer)
    try:
        with database_deadline():
            last_known.remember(
                group=answer.group,
                now=now,
                route=answer.call.route if answer.call is not None else None,
            )
    except DATABASE_UNAVAILABLE:
        connection.close()  # the answer stands; the list waits for the next call
    # The line names the numbers (a JSON answer carries the token: never logged).
    log_request_line(
        request,
        received,
        group=answer.group.slug if answer.group else "",
        status=response.status_code,
        numbers=answer.numbers,
    )
    return response


def _answer_degraded(
    request: HttpRequest,
    received: Received,
    exotel_request: ExotelRequest,
    group_slug: str | None,
    failure: Exception,
    render_numbers: Callable[[list[str]], HttpResponse],
) -> HttpResponse:
    """Answer the last-known list in the endpoint's shape; 503 without one."""
    kept = degraded.answer_from_last_known(
        received=received, request=exotel_request, group_slug=group_slug
    )
    response = (
        render_numbers(kept.numbers)
        if kept.numbers
        else text_response(degraded.UNAVAILABLE, status=503)
    )
    log_request_line(
        request,
        received,
        group=kept.group,
        status=response.status_code,
        numbers=kept.numbers,
        error=f"{kept.note}: {failure}",
        degraded=True,
    )
    return response


def reject(
    request: HttpRequest,
    received: Received,
    reason: str,
    status: int,
    group_slug: str | None,
) -> HttpResponse:
    """Answer a request we cannot act on with its one-line reason, and log it."""
    log_rejection(received, reason, status=status, group=group_slug or "")
    log_request_line(
        request, received, group=group_slug or "", status=status, error=reason
    )
    return text_response(reason, status=status)


def log_rejection(received: Received, reason: str, *, status: int, group: str):
    """Keep the request we could not act on, if the database answers."""
    try:
        with database_deadline():
            log_request(
                received,
                call=None,
                group_slug=group,
                status_code=status,
                body=reason if status != 200 else "",
                notes=reason,
                now=timezone.now(),
            )
    except DATABASE_UNAVAILABLE:
        connection.close()  # the log line still records the rejection


def log_request_line(
    request: HttpRequest,
    received: Received,
    *,
    group: str,
    status: int,
    numbers: Sequence[str] = (),
    error: str = "",
    degraded: bool = False,
) -> None:
    """Write the request's one log line (fields for DJANGO_LOG_FORMAT=json)."""
    fields = {
        "endpoint": received.endpoint,
        "call_sid": request.GET.get("CallSid", "")[:64],
        "group": group,
        "status": status,
        "numbers": list(numbers) if status == 200 else [],
        "dial_call_status": request.GET.get("DialCallStatus", "")[:20],
        "ms": round((time.perf_counter() - received.started) * 1000, 1),
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
