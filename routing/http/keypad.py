"""The keypad endpoint: an agent sets their own status from the phone (DESIGN 8.2).

An agents' own Exotel flow: the agent calls a dedicated ExoPhone, a Gather applet
reads a digit, a Passthru applet GETs `/exotel/<token>/agent-status/`. The caller's
number says who the agent is. The answer's status code is the Passthru's branch:
200 (empty) when the status is now as asked, 302 (empty, `Location:` this path)
when nothing was changed, so the flow can say "done" or "not recognised".
"""

import time
from dataclasses import dataclass

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from agents.models import Agent, StatusVia
from agents.status import change_agent_status
from routing.calls.requestlog import Received, log_request
from routing.exotel.keypad import KeypadError, parse_keypad_digits
from routing.exotel.requests import ExotelRequestError, parse_exotel_request
from routing.http.answering import (
    DATABASE_UNAVAILABLE,
    check_webhook_token,
    log_request_line,
    text_response,
)
from routing.models import WebhookRequest
from routing.outage.deadline import database_deadline

ENDPOINT = WebhookRequest.Endpoint.AGENT_STATUS
MAX_STORED_BODY = 200


@dataclass(frozen=True)
class KeypadAnswer:
    status: int  # 200 done, 302 not done, 400 not Exotel's request
    notes: str  # the one-line reason, for the request log and the log line


class NotDone(Exception):
    """Nothing changed; the message says why (answered 302)."""


@csrf_exempt
@require_GET
def agent_status(request: HttpRequest, token: str) -> HttpResponse:
    """Set the calling agent's status from the digits they keyed in."""
    check_webhook_token(token)
    received = Received.of(ENDPOINT, request.GET, time.perf_counter())
    try:
        with database_deadline():
            return _agent_status(request, received)
    except DATABASE_UNAVAILABLE as failure:
        connection.close()  # a broken persistent connection must not be reused
        response = text_response("database unavailable", status=503)
        _log_line(request, received, response, f"database unavailable: {failure}")
        return response


def _agent_status(request: HttpRequest, received: Received) -> HttpResponse:
    now = timezone.now()
    answer = decide(request, now=now)
    if answer.status == 302:
        response = text_response("", status=302)
        response["Location"] = request.path
    elif answer.status == 200:
        response = text_response("")
    else:
        response = text_response(answer.notes, status=answer.status)
    log_request(
        received,
        call=None,
        group_slug="",
        status_code=response.status_code,
        body=response.content.decode()[:MAX_STORED_BODY],
        notes=answer.notes,
        now=now,
    )
    _log_line(request, received, response, answer.notes)
    return response


def decide(request: HttpRequest, *, now) -> KeypadAnswer:
    """Apply the request's digits to the calling agent; say how it went."""
    try:
        exotel_request = parse_exotel_request(request.GET)
    except ExotelRequestError as rejection:
        return KeypadAnswer(400, str(rejection))
    try:
        agent = _calling_agent(exotel_request.caller)
        try:
            choice = parse_keypad_digits(exotel_request.digits)
        except KeypadError as error:
            raise NotDone(f"{agent.name}: {error}") from error
        outcome = change_agent_status(
            agents=Agent.objects.filter(pk=agent.pk),
            status=choice.status,
            minutes=choice.minutes,
            via=StatusVia.KEYPAD,
            now=now,
        )
        if outcome.inactive:
            raise NotDone(f"{agent.name}: inactive agent, status not changed")
    except NotDone as not_done:
        return KeypadAnswer(302, str(not_done))
    done = "set" if outcome.changed else "already"
    return KeypadAnswer(200, f"{agent.name}: {done} {outcome.text}")


def _calling_agent(caller: str) -> Agent:
    if not caller:
        raise NotDone("no caller number (From, CallFrom)")
    agent = Agent.objects.filter(phone=caller).first()
    if agent is None:
        raise NotDone(f"unknown caller {caller}")
    if not agent.active:
        raise NotDone(f"{agent.name}: inactive agent, status not changed")
    return agent


def _log_line(
    request: HttpRequest, received: Received, response: HttpResponse, notes: str
) -> None:
    log_request_line(
        request, received, group="", status=response.status_code, error=notes
    )
    # Django would log a 4xx or 5xx again with the path, and the path carries
    # the webhook token: this line says it all (`_has_been_logged` is the flag
    # Django itself sets to log a response once).
    response._has_been_logged = True
