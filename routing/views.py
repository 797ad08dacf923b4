"""HTTP views: the Exotel webhooks and the health check.

Each webhook view authenticates, parses the query into a typed request, makes one
service call and renders `text/plain`, logging the request and its answer.
"""

import time

from django.db import InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from routing import lastknown, outage, services
from routing.deadline import database_deadline
from routing.exotel import ExotelRequestError, parse_exotel_request
from routing.models import WebhookRequest
from routing.webhooks import check_webhook_token, log_request_line, text_response

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
    started = time.perf_counter()
    try:
        with database_deadline():
            return _dial_whom(request, group_slug, started)
    except DATABASE_UNAVAILABLE as failure:
        connection.close()  # a broken persistent connection must not be reused
        return outage.dial_whom_degraded(request, group_slug, failure, started)


def _dial_whom(
    request: HttpRequest, group_slug: str | None, started: float
) -> HttpResponse:
    now = timezone.now()
    call = answer = None
    error = ""
    try:
        exotel_request = parse_exotel_request(request.GET)
        answer = services.route_call(
            request=exotel_request, group_slug=group_slug, now=now
        )
        call = answer.call
        response = text_response(",".join(answer.numbers))
    except ExotelRequestError as rejection:
        error = str(rejection)
        response = text_response(error, status=400)
    except services.UnknownGroup:
        error = f"unknown group {group_slug!r}"
        response = text_response(error, status=404)
    except services.CallContention as contention:
        # Exotel then asks the Fallback URL, which decides afresh.
        error = str(contention)
        response = text_response(error, status=503)
    services.log_webhook_request(
        endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
        params=_logged_params(request),
        call=call,
        group_slug=group_slug or (call.group.slug if call and call.group else ""),
        status_code=response.status_code,
        body=response.content.decode(),
        notes=error or "; ".join(answer.notes if answer else []),
        started=started,
        now=now,
    )
    if answer is not None:
        lastknown.remember(group=answer.group, now=now)
    log_request_line(
        request,
        endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
        group=group_slug or (call.group.slug if call and call.group else ""),
        response=response,
        started=started,
        error=error,
    )
    return response


@csrf_exempt
@require_GET
def passthru(request: HttpRequest, token: str) -> HttpResponse:
    """Record how a call ended (a Passthru applet placed after Connect).

    With the database unreachable the outcome is lost (the agents it would free
    stay engaged until their group's hold time): log it loudly, answer 200.
    """
    check_webhook_token(token)
    started = time.perf_counter()
    try:
        with database_deadline():
            return _passthru(request, started)
    except DATABASE_UNAVAILABLE as failure:
        connection.close()
        return outage.passthru_degraded(request, failure, started)


def _passthru(request: HttpRequest, started: float) -> HttpResponse:
    now = timezone.now()
    call = None
    error = ""
    try:
        exotel_request = parse_exotel_request(request.GET)
        call = services.record_call_end(request=exotel_request, now=now)
        if call is None:
            error = "unknown CallSid: nothing to record"
        response = text_response("")
    except ExotelRequestError as rejection:
        error = str(rejection)
        response = text_response(error, status=400)
    services.log_webhook_request(
        endpoint=WebhookRequest.Endpoint.PASSTHRU,
        params=_logged_params(request),
        call=call,
        group_slug=call.group.slug if call and call.group else "",
        status_code=response.status_code,
        body=response.content.decode(),
        notes=error,
        started=started,
        now=now,
    )
    log_request_line(
        request,
        endpoint=WebhookRequest.Endpoint.PASSTHRU,
        group=call.group.slug if call and call.group else "",
        response=response,
        started=started,
        error=error,
    )
    return response


def _logged_params(request: HttpRequest) -> dict[str, str]:
    # PostgreSQL stores no NUL character, neither in text nor in JSON.
    return {
        key.replace("\x00", ""): value[:200].replace("\x00", "")
        for key, value in list(request.GET.items())[:50]
    }


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when the database answers, 503 when it does not (within a second)."""
    try:
        with database_deadline(), connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DATABASE_UNAVAILABLE:
        connection.close()
        return text_response("database unavailable", status=503)
    return text_response("ok")
