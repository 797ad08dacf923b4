"""HTTP views: the Exotel webhooks and the health check.

Each webhook view authenticates, parses the query into a typed request, makes one
service call and renders `text/plain`, logging the request and its answer.
"""

import logging
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from routing import lastknown, services
from routing.deadline import database_deadline
from routing.exotel import ExotelRequestError, parse_exotel_request
from routing.models import WebhookRequest

logger = logging.getLogger("routing.requests")
# What an unreachable, stopped or hung database raises (psycopg's errors wrapped
# by Django; the deadline's watchdog makes a hang one of these too).
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


def _check_token(token: str) -> None:
    """Answer 404 unless `token` is a configured webhook token (constant time)."""
    valid = False
    for expected in settings.DIALWHOM_WEBHOOK_TOKENS:
        valid |= constant_time_compare(token, expected)
    if not valid:
        raise Http404("not found")


def _text(body: str, status: int = 200) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain")


@csrf_exempt
@require_GET
def dial_whom(
    request: HttpRequest, token: str, group_slug: str | None = None
) -> HttpResponse:
    """Answer Exotel's Connect applet with the numbers to dial, comma-separated.

    With the database unreachable, answer the group's last-known list at once.
    """
    _check_token(token)
    started = time.perf_counter()
    try:
        with database_deadline():
            return _dial_whom(request, group_slug, started)
    except DATABASE_UNAVAILABLE as failure:
        connection.close()  # a broken persistent connection must not be reused
        return _dial_whom_degraded(request, group_slug, failure, started)


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
        response = _text(",".join(answer.numbers))
    except ExotelRequestError as rejection:
        error = str(rejection)
        response = _text(error, status=400)
    except services.UnknownGroup:
        error = f"unknown group {group_slug!r}"
        response = _text(error, status=404)
    except services.CallContention as contention:
        # Exotel then asks the Fallback URL, which decides afresh.
        error = str(contention)
        response = _text(error, status=503)
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
    _log_request(
        request,
        endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
        group=group_slug or (call.group.slug if call and call.group else ""),
        response=response,
        started=started,
        error=error,
    )
    return response


def _dial_whom_degraded(
    request: HttpRequest, group_slug: str | None, failure: Exception, started: float
) -> HttpResponse:
    """Answer from the last-known list; 503 (Exotel's Fallback URL) without one."""
    try:
        exotel_request = parse_exotel_request(request.GET)
    except ExotelRequestError as rejection:
        response = _text(str(rejection), status=400)
        group, error = group_slug or "", str(rejection)
    else:
        group, numbers = lastknown.recall(
            group_slug=group_slug,
            exophone=exotel_request.exophone,
            digits=exotel_request.digits,
        )
        if numbers:
            response = _text(",".join(numbers))
            error = f"database unavailable, answered {group}'s last-known list"
        else:
            response = _text("database unavailable", status=503)
            error = (
                f"database unavailable, no last-known list for {group or 'this call'}"
            )
    _log_request(
        request,
        endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
        group=group,
        response=response,
        started=started,
        error=f"{error}: {failure}",
        degraded=True,
    )
    return response


@csrf_exempt
@require_GET
def passthru(request: HttpRequest, token: str) -> HttpResponse:
    """Record how a call ended (a Passthru applet placed after Connect).

    With the database unreachable the outcome is lost (the agents it would free
    stay engaged until their group's hold time): log it loudly, answer 200.
    """
    _check_token(token)
    started = time.perf_counter()
    try:
        with database_deadline():
            return _passthru(request, started)
    except DATABASE_UNAVAILABLE as failure:
        connection.close()
        response = _text("")
        _log_request(
            request,
            endpoint=WebhookRequest.Endpoint.PASSTHRU,
            group="",
            response=response,
            started=started,
            error=f"database unavailable, outcome not recorded: {failure}",
            degraded=True,
        )
        return response


def _passthru(request: HttpRequest, started: float) -> HttpResponse:
    now = timezone.now()
    call = None
    error = ""
    try:
        exotel_request = parse_exotel_request(request.GET)
        call = services.record_call_end(request=exotel_request, now=now)
        if call is None:
            error = "unknown CallSid: nothing to record"
        response = _text("")
    except ExotelRequestError as rejection:
        error = str(rejection)
        response = _text(error, status=400)
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
    _log_request(
        request,
        endpoint=WebhookRequest.Endpoint.PASSTHRU,
        group=call.group.slug if call and call.group else "",
        response=response,
        started=started,
        error=error,
    )
    return response


def _log_request(
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
        return _text("database unavailable", status=503)
    return _text("ok")
