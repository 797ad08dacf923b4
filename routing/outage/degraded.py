"""Answers while the database is unreachable: the last-known list, and the spool.

The views call these after the database deadline (`routing.outage.deadline`) gave up or
the circuit breaker (`routing.outage.breaker`) remembered the outage. Nothing here
touches the database: each request is kept in the process's spool
(`routing.outage.spool`) and replayed into the call log, outcomes included, once the
database answers again.
"""

from django.http import HttpRequest, HttpResponse

from routing import metrics
from routing.exotel.requests import ExotelRequestError, parse_exotel_request
from routing.http.answering import log_request_line, text_response
from routing.models import WebhookRequest
from routing.outage import last_known, spool


def dial_whom_degraded(
    request: HttpRequest, group_slug: str | None, failure: Exception, started: float
) -> HttpResponse:
    """Answer from the last-known list; 503 (Exotel's Fallback URL) without one."""
    try:
        exotel_request = parse_exotel_request(request.GET)
    except ExotelRequestError as rejection:
        response = text_response(str(rejection), status=400)
        group, error = group_slug or "", str(rejection)
    else:
        group, numbers = last_known.recall(
            group_slug=group_slug,
            exophone=exotel_request.exophone,
            digits=exotel_request.digits,
        )
        if numbers:
            response = text_response(",".join(numbers))
            error = f"database unavailable, answered {group}'s last-known list"
        else:
            response = text_response("database unavailable", status=503)
            error = (
                f"database unavailable, no last-known list for {group or 'this call'}"
            )
        kept = spool.keep(
            endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
            request=request,
            group_slug=group,
            response=response,
            notes=error,
            started=started,
        )
        if not kept:
            error += " (not spooled: the call log will miss it)"
    metrics.DEGRADED.labels(endpoint=WebhookRequest.Endpoint.DIAL_WHOM).inc()
    log_request_line(
        request,
        endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
        group=group,
        response=response,
        started=started,
        error=f"{error}: {failure}",
        degraded=True,
    )
    return response


def passthru_degraded(
    request: HttpRequest, failure: Exception, started: float
) -> HttpResponse:
    """Spool a Passthru whose outcome cannot be recorded now; answer 200."""
    response = text_response("")
    kept = spool.keep(
        endpoint=WebhookRequest.Endpoint.PASSTHRU,
        request=request,
        group_slug="",
        response=response,
        notes="database unavailable, outcome spooled",
        started=started,
    )
    error = (
        "database unavailable, outcome spooled for replay"
        if kept
        else "database unavailable, outcome LOST (not spooled)"
    )
    metrics.DEGRADED.labels(endpoint=WebhookRequest.Endpoint.PASSTHRU).inc()
    log_request_line(
        request,
        endpoint=WebhookRequest.Endpoint.PASSTHRU,
        group="",
        response=response,
        started=started,
        error=f"{error}: {failure}",
        degraded=True,
    )
    return response
