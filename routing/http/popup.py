"""The Connect applet's popup URL (DESIGN section 11): each leg's events.

Always 200 with an empty body, for what it cannot use too (logged with a
one-line reason); a wrong token is a 404, as everywhere.
"""

import time

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from routing.calls.connect_events import record_connect_event
from routing.calls.requestlog import Received
from routing.exotel.events import ConnectEventError
from routing.exotel.popup import parse_popup_event
from routing.http.answering import (
    DATABASE_UNAVAILABLE,
    check_webhook_token,
    log_rejection,
    log_request_line,
    text_response,
)
from routing.models import WebhookRequest
from routing.outage.deadline import database_deadline


@csrf_exempt
@require_GET
def popup(request: HttpRequest, token: str) -> HttpResponse:
    """Record a leg's Dial, Ringing, Answered or Terminal event; always 200."""
    check_webhook_token(token)
    received = Received.of(
        WebhookRequest.Endpoint.POPUP, request.GET, time.perf_counter()
    )
    response = text_response("")
    group, note = "", ""
    try:
        event = parse_popup_event(request.GET)
    except ConnectEventError as rejection:
        note = str(rejection)
        log_rejection(received, note, status=200, group="")
    else:
        try:
            with database_deadline():
                record = record_connect_event(
                    event=event, now=timezone.now(), received=received, popup=True
                )
        except DATABASE_UNAVAILABLE as failure:
            connection.close()
            note = f"database unavailable, event not recorded: {failure}"
        else:
            call = record.call
            group = call.group.slug if call and call.group else ""
            note = record.effect.note
    log_request_line(request, received, group=group, status=200, error=note)
    return response
