"""HTTP views: the Exotel webhooks and the health check.

Each webhook view authenticates, parses the query into a typed request, makes one
service call and renders `text/plain`, logging the request and its answer.
"""

import time

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from routing import services
from routing.exotel import ExotelRequestError, parse_exotel_request
from routing.models import WebhookRequest


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
    """Answer Exotel's Connect applet with the numbers to dial, comma-separated."""
    _check_token(token)
    started = time.perf_counter()
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
    services.log_webhook_request(
        endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
        params=_logged_params(request),
        call=call,
        group_slug=group_slug or (call.group.slug if call and call.group else ""),
        status_code=response.status_code,
        body=response.content.decode(),
        error=error or "; ".join(answer.notes if answer else []),
        started=started,
        now=now,
    )
    return response


@csrf_exempt
@require_GET
def passthru(request: HttpRequest, token: str) -> HttpResponse:
    """Record how a call ended (a Passthru applet placed after Connect)."""
    _check_token(token)
    started = time.perf_counter()
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
        error=error,
        started=started,
        now=now,
    )
    return response


def _logged_params(request: HttpRequest) -> dict[str, str]:
    return {key: value[:200] for key, value in list(request.GET.items())[:50]}


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when the database answers, 503 when it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        return _text("database unavailable", status=503)
    return _text("ok")
