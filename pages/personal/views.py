"""An agent's personal page: `/me/<personal token>/` (DESIGN section 8.3).

No login: the token in the link is the key, so it never reaches a log line.
Django writes the path of every 4xx answer and CSRF rejection to its log; this
page answers those itself, with a one-line reason and without the path.
"""

import datetime as dt
import logging
import zoneinfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import decorator_from_middleware
from django.views.decorators.csrf import csrf_exempt

from agents.duty import duty_outlook
from agents.models import Agent, AgentStatus, StatusVia
from agents.personal_links import TOKEN_FORMAT, agent_for_personal_token
from agents.status import change_agent_status, end_due_breaks
from pages.personal.forms import PersonalStatusForm
from routing.models import Attempt

logger = logging.getLogger("pages.personal")
NOT_A_LINK = "This link does not work (any more). Ask your supervisor for a new one."


def _quiet(response: HttpResponse, reason: str) -> HttpResponse:
    """Log `reason` (one line, no path) and keep Django from logging the path."""
    logger.warning("personal page %s: %s", response.status_code, reason)
    # The flag Django sets itself once it has logged a response.
    response._has_been_logged = True
    return response


def _error_page(request: HttpRequest, status: int, message: str) -> HttpResponse:
    response = render(
        request, "personal/error.html", {"message": message}, status=status
    )
    add_never_cache_headers(response)
    return response


class _QuietCsrfMiddleware(CsrfViewMiddleware):
    """Django's CSRF check, rejecting without the path (the token) in the log."""

    def _reject(self, request, reason):
        return _quiet(
            _error_page(
                request, 403, "The page was out of date. Open your link again."
            ),
            f"CSRF check failed: {reason}",
        )


_csrf_protect_quietly = decorator_from_middleware(_QuietCsrfMiddleware)


# Exempt from the site-wide check only to be checked here, quietly.
@csrf_exempt
@_csrf_protect_quietly
def personal_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show the agent's status, duty and calls today; POST sets their status."""
    if request.method not in {"GET", "POST"}:
        response = _error_page(request, 405, "Open your link in a browser.")
        response["Allow"] = "GET, POST"
        return _quiet(response, f"method {request.method[:10]} not allowed")
    now = timezone.now()
    end_due_breaks(now=now)
    agent = agent_for_personal_token(token)
    if agent is None:
        reason = (
            "unknown or revoked token"
            if TOKEN_FORMAT.fullmatch(token)
            else "malformed token"
        )
        message = (
            "This link does not work (any more). Ask your supervisor for a new one."
        )
        return _quiet(_error_page(request, 404, message), reason)
    if request.method == "POST":
        _change_status(request, agent, now=now)
        return redirect(request.path)
    response = render(request, "personal/page.html", _context(agent, now=now))
    add_never_cache_headers(response)
    return response


def not_a_personal_page(request: HttpRequest, rest: str) -> HttpResponse:
    """Answer a path under /me/ that is no personal link with a quiet 404."""
    return _quiet(_error_page(request, 404, NOT_A_LINK), "malformed link")


def _change_status(request: HttpRequest, agent: Agent, *, now: dt.datetime) -> None:
    form = PersonalStatusForm(request.POST)
    if not form.is_valid():
        logger.warning("personal page: %s sent an invalid status form", agent.name)
        messages.error(request, "Choose available, on break or offline.")
        return
    with timezone.override(agent.timezone):  # the answer on the agent's clock
        outcome = change_agent_status(
            agents=Agent.objects.filter(pk=agent.pk),
            status=AgentStatus(form.cleaned_data["status"]),
            reason=form.cleaned_data["reason"],
            minutes=form.cleaned_data["minutes"],
            via=StatusVia.PAGE,
            now=now,
        )
    if outcome.inactive:
        logger.warning("personal page: %s is inactive, status not changed", agent.name)
        messages.error(request, "Your profile is inactive: ask your supervisor.")
        return
    text = outcome.text
    logger.info("personal page: %s set %s", agent.name, text)
    messages.success(request, f"You are now {text[0].lower()}{text[1:]}.")


def _context(agent: Agent, *, now: dt.datetime) -> dict:
    zone = zoneinfo.ZoneInfo(agent.timezone)
    today = now.astimezone(zone).date()
    day_start = dt.datetime.combine(today, dt.time(), tzinfo=zone)
    day_end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    duty = duty_outlook(
        hours=agent.hours.values_list("weekday", "starts", "ends"),
        time_off=agent.time_off.filter(
            ends_at__gt=now, starts_at__lt=now + dt.timedelta(days=9)
        ).values_list("starts_at", "ends_at"),
        tz_name=agent.timezone,
        now=now,
    )
    calls = (
        Attempt.objects.filter(
            agent=agent, offered_at__gte=day_start, offered_at__lt=day_end
        )
        .select_related("call", "group")
        .order_by("offered_at")
    )
    return {
        "agent": agent,
        "zone": agent.timezone,
        "now": now,
        "duty": duty,
        "engaged": agent.engaged_until is not None and agent.engaged_until > now,
        "calls": calls,
        "form": PersonalStatusForm(),
        "statuses": AgentStatus,
    }
