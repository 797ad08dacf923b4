"""Supervisor pages, served inside the admin (wrapped by `admin.site.admin_view`).

Every page looks its group or call up through `visible_to(request.user)`: a
supervisor who edits a URL towards another group's page gets a 404.
"""

import csv
import datetime as dt
import zoneinfo

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from agents.admin.agents import issue_link_page
from agents.coverage import Gap, coverage_gaps
from agents.csv_cells import defused_rows
from agents.models import (
    Agent,
    AgentGroup,
    AgentStatus,
    Membership,
    Route,
    StatusVia,
)
from agents.skills import describe_needs, stored_needs
from agents.status import change_agent_status, end_due_breaks
from pages.preview import preview_route
from pages.reports.callbacks import missed_callers
from pages.reports.charts import daily_chart, hourly_chart
from pages.reports.figures import answer_speed, group_report
from pages.reports.routes import route_report
from pages.reports.table import report_rows
from pages.supervisor.agent_time import agent_times
from pages.supervisor.board import board_members
from pages.supervisor.forms import (
    AgentTimeForm,
    CallBackForm,
    CoverageForm,
    PeriodForm,
    PreviewForm,
    StatusForm,
)
from pages.supervisor.timeline import call_timeline, route_lines
from routing.exotel.connect import displayed_answer
from routing.exotel_api.account import off_reason
from routing.models import Call, CallBack, DerivedResult

BOARD_REFRESH_SECONDS = 5


def _render(
    request: HttpRequest, template: str, context: dict, *, title: str
) -> HttpResponse:
    group = context.get("group")
    with timezone.override(
        group.timezone if group else timezone.get_current_timezone()
    ):
        return render(
            request,
            template,
            {**admin.site.each_context(request), "title": title, **context},
        )


def _group(request: HttpRequest, slug: str) -> AgentGroup:
    return get_object_or_404(
        AgentGroup.objects.visible_to(request.user).select_related("overflow"),
        slug=slug,
    )


def _visible_call_ids(request: HttpRequest, ids) -> set[int]:
    """Return which of the call ids `ids` the user may open."""
    wanted = {pk for pk in ids if pk}
    if not wanted:
        return set()
    return set(
        Call.objects.visible_to(request.user)
        .filter(pk__in=wanted)
        .values_list("pk", flat=True)
    )


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """List the user's groups with links to each supervisor page."""
    groups = AgentGroup.objects.visible_to(request.user).order_by("name")
    return _render(
        request, "supervisor/index.html", {"groups": groups}, title="Supervisor tools"
    )


@require_GET
def preview(request: HttpRequest, slug: str) -> HttpResponse:
    """Show what the endpoint would answer a new call now, and why not the others."""
    group = _group(request, slug)
    form = PreviewForm(request.GET or None, group=group)
    result = None
    # The moment typed, and the times in the reasons, are on the group's clock.
    with timezone.override(group.timezone):
        if not form.is_bound or form.is_valid():
            data = form.cleaned_data if form.is_bound else {}
            result = preview_route(
                group=group,
                caller=data.get("caller", ""),
                moment=data.get("moment") or timezone.now(),
                route=data.get("route"),
            )
    engaged_sids = (
        [v.engaged_call_sid for g in result.groups for v in g.members] if result else []
    )
    engaged_calls = dict(
        Call.objects.visible_to(request.user)
        .filter(sid__in=[sid for sid in engaged_sids if sid])
        .values_list("sid", "pk")
    )
    return _render(
        request,
        "supervisor/preview.html",
        {
            "group": group,
            "form": form,
            "preview": result,
            "connect_answer": displayed_answer(
                numbers=[number.number for number in result.numbers], group=group
            )
            if result
            else "",
            "engaged_calls": engaged_calls,
        },
        title=f"Routing preview: {group.name}",
    )


def _board_context(request: HttpRequest, group: AgentGroup) -> dict:
    now = timezone.now()
    end_due_breaks(now=now)
    members = list(board_members(group=group, now=now))
    visible = _visible_call_ids(
        request,
        [m.engaged_call_id for m in members] + [m.last_call_id for m in members],
    )
    return {
        "group": group,
        "members": members,
        "visible_calls": visible,
        "now": now,
        "statuses": AgentStatus,
        "refresh_seconds": BOARD_REFRESH_SECONDS,
    }


@require_GET
def board(request: HttpRequest, slug: str) -> HttpResponse:
    """Show every member of the group as it stands now, with status buttons."""
    group = _group(request, slug)
    return _render(
        request,
        "supervisor/board.html",
        _board_context(request, group),
        title=f"Live board: {group.name}",
    )


@require_GET
def board_rows(request: HttpRequest, slug: str) -> HttpResponse:
    """Render the board's table alone, for the page's periodic refresh."""
    group = _group(request, slug)
    with timezone.override(group.timezone):
        return render(
            request, "supervisor/board_rows.html", _board_context(request, group)
        )


@require_POST
def change_status(request: HttpRequest, slug: str, agent_id: int) -> HttpResponse:
    """Set one member's status from the board (a form POST, CSRF-protected)."""
    group = _group(request, slug)
    membership = get_object_or_404(
        Membership.objects.select_related("agent"), group=group, agent_id=agent_id
    )
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose available, on break or offline.")
        return redirect("supervisor-board", slug=group.slug)
    outcome = change_agent_status(
        agents=Agent.objects.filter(pk=membership.agent_id),
        status=AgentStatus(form.cleaned_data["status"]),
        reason=form.cleaned_data["reason"],
        minutes=form.cleaned_data["minutes"],
        via=StatusVia.BOARD,
        user=request.user,
        now=timezone.now(),
    )
    name = membership.agent.name
    if outcome.inactive:
        messages.error(request, f"{name} is inactive: status not changed.")
    else:
        text = outcome.text
        messages.success(request, f"{name} is now {text[0].lower()}{text[1:]}.")
    return redirect("supervisor-board", slug=group.slug)


@require_POST
def personal_link(request: HttpRequest, slug: str, agent_id: int) -> HttpResponse:
    """Make a new personal link for one member and show it once."""
    group = _group(request, slug)
    membership = get_object_or_404(
        Membership.objects.select_related("agent"), group=group, agent_id=agent_id
    )
    return issue_link_page(
        request,
        agent=membership.agent,
        back_url=reverse("supervisor-board", args=[group.slug]),
        back_label=f"the live board of {group.name}",
        context=admin.site.each_context(request),
    )


@require_GET
def call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    """Show one call's timeline: requests, answers, offers with reasons, outcomes."""
    call = get_object_or_404(
        Call.objects.visible_to(request.user)
        .with_derived_result(timezone.now())
        .select_related("group", "answered_by", "route"),
        pk=call_id,
    )
    return _render(
        request,
        "supervisor/call_timeline.html",
        {
            "call": call,
            "group": call.group,
            "route_lines": route_lines(call),
            "derived_result": DerivedResult(call.derived_result),
            "events": call_timeline(call),
            "admin_url": reverse("admin:routing_call_change", args=[call.pk])
            if admin.site.is_registered(Call)
            else "",
        },
        title=f"Call {call.sid}",
    )


def _gap_text(gap: Gap, zone_name: str) -> str:
    """Write a gap as the pages write times.

    `Mon 02 Nov 2026, 18:00 to 20:30 (2 h 30 min)`; the end carries its own date
    when it falls on another day.
    """
    zone = zoneinfo.ZoneInfo(zone_name)
    starts, ends = gap.starts.astimezone(zone), gap.ends.astimezone(zone)
    day_and_time = "%a %d %b %Y, %H:%M"
    end_format = "%H:%M" if ends.date() == starts.date() else day_and_time
    minutes = int(gap.duration.total_seconds() // 60)
    return (
        f"{starts.strftime(day_and_time)} to {ends.strftime(end_format)} "
        f"({minutes // 60} h {minutes % 60:02d} min)"
    )


@require_GET
def coverage(request: HttpRequest) -> HttpResponse:
    """Show, per group, the coming hours when it is open and nobody is scheduled."""
    form = CoverageForm(request.GET or None)
    days = form.days_or_default() if form.is_valid() else 7
    now = timezone.now()
    groups = AgentGroup.objects.visible_to(request.user).order_by("name")
    slug = request.GET.get("group")
    if slug:
        groups = [_group(request, slug)]
    rows = [
        {
            "group": group,
            "gaps": [
                _gap_text(gap, group.timezone)
                for gap in coverage_gaps(group, start=now, days=days)
            ],
        }
        for group in groups
    ]
    route_rows = [
        {
            "route": route,
            "needs": describe_needs(stored_needs(route.needs)),
            "gaps": [
                _gap_text(gap, route.group.timezone)
                for gap in coverage_gaps(
                    route.group,
                    start=now,
                    days=days,
                    needs=stored_needs(route.needs),
                )
            ],
        }
        for route in Route.objects.filter(group__in=list(groups))
        .exclude(needs="")
        .select_related("group")
        .order_by("slug")
    ]
    return _render(
        request,
        "supervisor/coverage.html",
        {"rows": rows, "route_rows": route_rows, "days": days, "form": form},
        title=f"Coverage: the next {days} days",
    )


def _span(start: dt.date, end: dt.date) -> str:
    if start == end:
        return f"{start:%a %d %b %Y}"
    return f"{start:%a %d %b %Y} to {end:%a %d %b %Y}"


def _period(request: HttpRequest, group: AgentGroup):
    """Return the period form, its (start, end) and the links around it."""
    form = PeriodForm(request.GET or None)
    today = dt.datetime.now(zoneinfo.ZoneInfo(group.timezone)).date()
    start, end = form.period(today)
    if not form.is_bound:
        form = PeriodForm(initial={"start": start, "end": end})
    days = (end - start).days + 1
    return (
        form,
        start,
        end,
        {
            "start": start,
            "end": end,
            "previous": (start - dt.timedelta(days=days), start - dt.timedelta(days=1)),
            "next": (end + dt.timedelta(days=1), end + dt.timedelta(days=days)),
            "today": today,
        },
    )


@require_GET
def report(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a group's figures for a day or a range of days on its own clock.

    `?format=csv` downloads the same table (a row per day and a total).
    """
    group = _group(request, slug)
    form, start, end, period = _period(request, group)
    figures = group_report(group=group, start=start, end=end, now=timezone.now())
    span = _span(start, end)
    if request.GET.get("format") == "csv":
        if form.errors:  # a file of some other period would mislead: say why not
            reasons = [error for errors in form.errors.values() for error in errors]
            return HttpResponse(
                " ".join(reasons), status=400, content_type="text/plain"
            )
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        name = f"dialwhom-{group.slug}-{start:%Y-%m-%d}-{end:%Y-%m-%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        csv.writer(response).writerows(defused_rows(report_rows(figures)))
        return response
    return _render(
        request,
        "supervisor/report.html",
        {
            "group": group,
            "form": form,
            "report": figures,
            "answer_speed": answer_speed(group=group, start=start, end=end),
            "routes": route_report(group=group, start=start, end=end),
            "hourly_chart": hourly_chart(figures.hours),
            "daily_chart": daily_chart(figures.days) if end != start else None,
            **period,
        },
        title=f"Report: {group.name}, {span}",
    )


def callers_to_call_back(request: HttpRequest, slug: str) -> HttpResponse:
    """List the callers to call back; a POST marks one as called back."""
    group = _group(request, slug)
    if request.method == "POST":
        mark = CallBackForm(request.POST)
        if mark.is_valid():
            CallBack.objects.create(
                group=group,
                caller=mark.cleaned_data["caller"],
                marked_by=request.user,
                marked_at=timezone.now(),
            )
            messages.success(
                request, f"{mark.cleaned_data['caller']} marked as called back."
            )
        else:
            messages.error(request, "No caller to mark.")
        return redirect(request.get_full_path())
    if request.method != "GET":
        raise Http404
    form, start, end, period = _period(request, group)
    rows = missed_callers(group=group, start=start, end=end, now=timezone.now())
    span = _span(start, end)
    return _render(
        request,
        "supervisor/missed_callers.html",
        {
            "group": group,
            "form": form,
            "rows": rows,
            "waiting": sum(1 for row in rows if not row.called_back),
            "call_back_off": off_reason(),
            **period,
        },
        title=f"Callers to call back: {group.name}, {span}",
    )


@require_GET
def agent_time(request: HttpRequest, slug: str) -> HttpResponse:
    """Show each member's time available, on break and offline on one day."""
    group = _group(request, slug)
    now = timezone.now()
    end_due_breaks(now=now)
    form = AgentTimeForm(request.GET or None)
    today = now.astimezone(zoneinfo.ZoneInfo(group.timezone)).date()
    date = (form.cleaned_data.get("date") if form.is_valid() else None) or today
    if not form.is_bound:
        form = AgentTimeForm(initial={"date": date})
    return _render(
        request,
        "supervisor/agent_time.html",
        {
            "group": group,
            "form": form,
            "rows": agent_times(group=group, date=date, now=now),
            "date": date,
            "previous_day": date - dt.timedelta(days=1),
            "next_day": date + dt.timedelta(days=1),
        },
        title=f"Agent time: {group.name}, {date:%a %d %b %Y}",
    )
