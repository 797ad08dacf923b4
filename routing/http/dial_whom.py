"""HTTP views: the Exotel webhooks and the health check.

Each webhook view authenticates, parses the query into a typed request, makes one
service call (which writes the request's log row with its decision) and renders
`text/plain`. A request we cannot act on is answered with its one-line reason.
"""

import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_safe

from routing.calls import services
from routing.calls.requestlog import Received, log_request
from routing.exotel.requests import (
    ExotelRequest,
    ExotelRequestError,
    parse_exotel_request,
)
from routing.http.answering import check_webhook_token, log_request_line, text_response
from routing.models import WebhookRequest
from routing.outage import degraded, last_known
from routing.outage.deadline import database_deadline

# What an unreachable, stopped or hung database raises (psycopg's errors wrapped
# by Django; the deadline's watchdog makes a hang one of these too).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


@csrf_exempt
@require_GET
def dial_whom(
    request: HttpRequest, token: str, group_slug: str | None = None
) -> HttpResponse:
    """Answer Exotel's Connect applet with the numbers to dial, comma-separated.

    With the database unreachable, answer the group's last-known list at once.
    """
    check_webhook_token(token)
    received = Received.of(
        WebhookRequest.Endpoint.DIAL_WHOM, request.GET, time.perf_counter()
    )
    return answer_call(
        request,
        received,
        group_slug,
        render=lambda answer: text_response(answer.body),
        degraded=lambda _exotel_request, failure: degraded.dial_whom_degraded(
            request, group_slug, failure, received.started
        ),
    )


def answer_call(
    request: HttpRequest,
    received: Received,
    group_slug: str | None,
    *,
    render: Callable[[services.RouteAnswer], HttpResponse],
    degraded: Callable[[ExotelRequest, Exception], HttpResponse],
) -> HttpResponse:
    """Parse, make the one routing service call, render its answer.

    What Dial Whom and Programmable Connect share: they differ only in how the
    same decision is written (`render`), and answered in an outage (`degraded`).
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
        return degraded(exotel_request, failure)
    # Committed: from here on nothing may turn this answer into another one.
    response = render(answer)
    try:
        with database_deadline():
            last_known.remember(group=answer.group, now=now)
    except DATABASE_UNAVAILABLE:
        connection.close()  # the answer stands; the list waits for the next call
    # The line names the numbers (a JSON answer carries the token: never logged).
    _log_line(
        request,
        received,
        text_response(answer.body),
        answer.group.slug if answer.group else "",
    )
    return response


@csrf_exempt
@require_GET
def passthru(request: HttpRequest, token: str) -> HttpResponse:
    """Record how a call ended (a Passthru applet placed after Connect)."""
    check_webhook_token(token)
    received = Received.of(
        WebhookRequest.Endpoint.PASSTHRU, request.GET, time.perf_counter()
    )
    try:
        exotel_request = parse_exotel_request(request.GET)
    except ExotelRequestError as rejection:
        return reject(request, received, str(rejection), 400, "")
    now = timezone.now()
    try:
        with database_deadline():
            call = services.record_call_end(
                request=exotel_request, now=now, received=received
            )
    except services.CallContention as contention:
        return reject(request, received, str(contention), 503, "")
    except DATABASE_UNAVAILABLE as failure:
        connection.close()
        return degraded.passthru_degraded(request, failure, received.started)
    response = text_response("")
    group = call.group.slug if call and call.group else ""
    _log_line(request, received, response, group, "" if call else "unknown CallSid")
    return response


def reject(
    request: HttpRequest,
    received: Received,
    reason: str,
    status: int,
    group_slug: str | None,
) -> HttpResponse:
    """Answer a request we cannot act on with its one-line reason, and log it."""
    response = text_response(reason, status=status)
    log_rejection(received, reason, status=status, group=group_slug or "")
    _log_line(request, received, response, group_slug or "", reason)
    return response


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


def _log_line(
    request: HttpRequest,
    received: Received,
    response: HttpResponse,
    group: str,
    error: str = "",
) -> None:
    log_request_line(
        request,
        endpoint=received.endpoint,
        group=group,
        response=response,
        started=received.started,
        error=error,
    )


@require_safe  # uptime checkers ask with HEAD as often as with GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when the database answers, 503 when it does not (within a second)."""
    try:
        with database_deadline(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_UNAVAILABLE:
        connection.close()
        return text_response("database unavailable", status=503)
    return text_response("ok")
