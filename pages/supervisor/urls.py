"""Supervisor pages under /admin/supervisor/, behind the admin's login."""

from django.contrib import admin
from django.urls import path

from pages.supervisor import call_back, views


def _page(view):
    return admin.site.admin_view(view)


urlpatterns = [
    path("", _page(views.index), name="supervisor-index"),
    path("coverage/", _page(views.coverage), name="supervisor-coverage"),
    path(
        "calls/<int:call_id>/",
        _page(views.call_detail),
        name="supervisor-call-timeline",
    ),
    path(
        "groups/<slug:slug>/preview/",
        _page(views.preview),
        name="supervisor-preview",
    ),
    path("groups/<slug:slug>/board/", _page(views.board), name="supervisor-board"),
    path(
        "groups/<slug:slug>/board/rows/",
        _page(views.board_rows),
        name="supervisor-board-rows",
    ),
    path(
        "groups/<slug:slug>/board/agents/<int:agent_id>/status/",
        _page(views.change_status),
        name="supervisor-agent-status",
    ),
    path(
        "groups/<slug:slug>/board/agents/<int:agent_id>/personal-link/",
        _page(views.personal_link),
        name="supervisor-personal-link",
    ),
    path(
        "groups/<slug:slug>/agent-time/",
        _page(views.agent_time),
        name="supervisor-agent-time",
    ),
    path("groups/<slug:slug>/reports/", _page(views.report), name="supervisor-report"),
    path(
        "groups/<slug:slug>/missed-callers/",
        _page(views.callers_to_call_back),
        name="supervisor-missed-callers",
    ),
    path(
        "groups/<slug:slug>/call-back/",
        _page(call_back.call_back),
        name="supervisor-call-back",
    ),
]
