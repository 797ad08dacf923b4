"""HTTP views: the Exotel webhooks and the health check.

Each webhook view authenticates, parses the query into a typed request, makes one
service call (which writes the request's log row with its decision) and renders
`text/plain`. A request we cannot act on is answered with its one-line reason.
"""

import time

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_safe

from routing.calls import services
from routing.calls.requestlog import Received
from routing.exotel.requests import ExotelRequestError, parse_exotel_request
from routing.http.answering import (
    DATABASE_UNAVAILABLE,
    answer_call,
    check_webhook_token,
    log_request_line,
    reject,
    text_response,
)
from routing.models import WebhookRequest
from routing.outage import degraded
from routing.outage.deadline import database_deadline


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
        render_numbers=lambda numbers: text_response(",".join(numbers)),
    )


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
        note = degraded.spool_call_end(received=received)
        log_request_line(
            request,
            received,
            group="",
            status=200,
            error=f"{note}: {failure}",
            degraded=True,
        )
        return text_response("")
    log_request_line(
        request,
        received,
        group=call.group.slug if call and call.group else "",
        status=200,
        error="" if call else "unknown CallSid",
    )
    return text_response("")


@require_safe  # uptime checkers ask with HEAD as often as with GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when the database answers, 503 when it does not (within a second)."""
    try:
        with database_deadline(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_UNAVAILABLE:
        connection.close()
        return text_response(degraded.UNAVAILABLE, status=503)
    return text_response("ok")
