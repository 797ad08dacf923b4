"""Programmable Connect's webhooks (DESIGN section 9): the JSON answer and the events.

`connect` makes the very service call Dial Whom makes (`services.route_call`,
which writes the request's log row with the decision in its own transaction) and
renders its numbers as the Connect applet's JSON; `connect_events` applies what
Exotel reports of each leg. The JSON's events URL carries the webhook token, so
the log keeps the decision (the numbers, as for Dial Whom), never the JSON.
"""

import json
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from routing.calls.connect_events import record_connect_event
from routing.calls.requestlog import Received, storable
from routing.exotel.connect import ConnectSettings, render_connect_answer
from routing.exotel.events import ConnectEventError, parse_connect_event
from routing.http.answering import (
    DATABASE_UNAVAILABLE,
    answer_call,
    check_webhook_token,
    log_rejection,
    log_request_line,
    text_response,
)
from routing.models import WebhookRequest
from routing.outage.deadline import database_deadline

VERSION_HEADER = "Exotel-Version"


@csrf_exempt
@require_GET
def connect(
    request: HttpRequest, token: str, group_slug: str | None = None
) -> HttpResponse:
    """Answer the Connect applet's dynamic URL: whom to dial, and how, as JSON.

    The numbers are Dial Whom's decision; with the database unreachable, the
    group's last-known list, as Dial Whom answers it.
    """
    check_webhook_token(token)
    received = _received(WebhookRequest.Endpoint.CONNECT, request, request.GET)
    events_url = _events_url(request, token)
    return answer_call(
        request,
        received,
        group_slug,
        render=lambda answer: _json_answer(
            answer.numbers, ConnectSettings.of_group(answer.group), events_url
        ),
        # The group's settings are in the database too: only the numbers are known.
        render_numbers=lambda numbers: _json_answer(
            numbers, ConnectSettings(), events_url
        ),
    )


@csrf_exempt
@require_http_methods(["GET", "POST"])
def connect_events(request: HttpRequest, token: str) -> HttpResponse:
    """Record what Exotel reports of a call's legs; always 200, empty body."""
    check_webhook_token(token)
    endpoint = WebhookRequest.Endpoint.CONNECT_EVENTS
    try:
        fields = _event_fields(request)
    except ConnectEventError as unreadable:
        return _refused(request, _received(endpoint, request, request.GET), unreadable)
    received = _received(endpoint, request, fields)
    try:
        event = parse_connect_event(fields)
    except ConnectEventError as rejection:
        return _refused(request, received, rejection)
    response = text_response("")
    try:
        with database_deadline():
            record = record_connect_event(
                event=event, now=timezone.now(), received=received
            )
    except DATABASE_UNAVAILABLE as failure:
        connection.close()
        log_request_line(
            request,
            received,
            group="",
            status=200,
            error=f"database unavailable, event not recorded: {failure}",
            degraded=True,
        )
        return response
    call = record.call
    log_request_line(
        request,
        received,
        group=call.group.slug if call and call.group else "",
        status=200,
        error=record.effect.note,
    )
    return response


def _refused(
    request: HttpRequest, received: Received, rejection: ConnectEventError
) -> HttpResponse:
    """Answer an event we cannot act on: 200 all the same, the reason logged."""
    log_rejection(received, str(rejection), status=200, group="")
    log_request_line(request, received, group="", status=200, error=str(rejection))
    return text_response("")


def _received(endpoint: str, request: HttpRequest, fields: QueryDict) -> Received:
    received = Received.of(endpoint, fields, time.perf_counter())
    version = request.headers.get(VERSION_HEADER)
    if version is None:
        return received
    # A header is not a parameter: it is logged under a name no query can have.
    params = {**received.params, f"header {VERSION_HEADER}": storable(version[:200])}
    return Received(endpoint=endpoint, params=params, started=received.started)


def _event_fields(request: HttpRequest) -> QueryDict:
    """Return the query and the form (or a flat JSON object) as one set of fields.

    Raise ConnectEventError for a JSON body nested too deep to read.
    """
    fields = request.GET.copy()
    if request.method == "POST":
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                body = {}
            except RecursionError as error:
                raise ConnectEventError("JSON body nested too deep to read") from error
            if isinstance(body, dict):
                for key, value in body.items():
                    if isinstance(value, str | int | float):
                        fields[storable(str(key))] = storable(str(value))
        else:
            fields.update(request.POST)
    return fields


def _events_url(request: HttpRequest, token: str) -> str:
    """Return the events URL with the (checked) token the request came with.

    During a rotation a request made with the previous token gets the previous
    one back: the answer never hands out a token its asker did not hold.
    """
    # The URL pattern's slash is optional; the URL given out has one.
    path = reverse("connect-events", kwargs={"token": token}).rstrip("/") + "/"
    if settings.DIALWHOM_PUBLIC_URL:
        return settings.DIALWHOM_PUBLIC_URL.rstrip("/") + path
    return request.build_absolute_uri(path)


def _json_answer(
    numbers: list[str], group_settings: ConnectSettings, events_url: str
) -> HttpResponse:
    answer = render_connect_answer(
        numbers=numbers, settings=group_settings, events_url=events_url
    )
    return HttpResponse(json.dumps(answer), content_type="application/json")
