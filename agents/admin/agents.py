"""The agents in the admin: filters, status actions and form, history, personal links."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.cache import add_never_cache_headers
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from agents import rules
from agents.admin.access import SupervisorAccess
from agents.admin.inlines import (
    AgentHoursInline,
    AgentMembershipInline,
    AgentSkillInline,
    TimeOffInline,
)
from agents.models import Agent, AgentGroup, AgentStatus, Membership, StatusVia
from agents.personal_links import issue_personal_token
from agents.phones import normalize_phone
from agents.status import (
    break_end,
    change_agent_status,
    describe_status,
    end_due_breaks,
    set_agent_status,
)


class GroupListFilter(admin.SimpleListFilter):
    title = "group"
    parameter_name = "group"

    def lookups(self, request, model_admin):
        groups = AgentGroup.objects.visible_to(request.user).order_by("name")
        return [(str(group.pk), group.name) for group in groups]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if not self.value().isdigit():
            raise IncorrectLookupParameters(f"no group {self.value()!r}")
        return queryset.filter(memberships__group_id=self.value())


class OnDutyNowFilter(admin.SimpleListFilter):
    title = "on duty now"
    parameter_name = "on_duty"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(on_duty_now=True)
        if self.value() == "no":
            return queryset.filter(on_duty_now=False)
        return queryset


BREAK_LENGTHS = [
    ("", "until changed"),
    ("15", "15 minutes"),
    ("30", "30 minutes"),
    ("60", "60 minutes"),
]


class StatusActionForm(ActionForm):
    reason = forms.CharField(
        required=False,
        max_length=200,
        label="Reason",
        help_text="Kept with the new status (for example 'lunch').",
    )
    minutes = forms.ChoiceField(
        required=False, choices=BREAK_LENGTHS, label="Break length"
    )


def status_message(outcome, status: AgentStatus) -> str:
    """Say what a status request did to the selected agents."""
    count = outcome.changed
    text = f"{count} agent{'s' if count != 1 else ''} set to {status.label.lower()}."
    if outcome.unchanged:
        text += f" {outcome.unchanged} already {'was' if outcome.unchanged == 1 else 'were'}."
    if outcome.inactive:
        text += f" {outcome.inactive} inactive: not changed."
    return text


def set_status(modeladmin, request, queryset, status: AgentStatus) -> None:
    """Set the status of the selected agents, with the reason from the action form."""
    minutes = request.POST.get("minutes", "")
    outcome = change_agent_status(
        agents=queryset,
        status=status,
        reason=request.POST.get("reason", ""),
        minutes=int(minutes) if minutes in {"15", "30", "60"} else None,
        via=StatusVia.ADMIN,
        user=request.user,
        now=timezone.now(),
    )
    modeladmin.message_user(request, status_message(outcome, status), messages.SUCCESS)


@admin.action(description="Set selected agents available")
def make_available(modeladmin, request, queryset):
    set_status(modeladmin, request, queryset, AgentStatus.AVAILABLE)


@admin.action(description="Set selected agents on break")
def make_on_break(modeladmin, request, queryset):
    set_status(modeladmin, request, queryset, AgentStatus.BREAK)


@admin.action(description="Set selected agents offline")
def make_offline(modeladmin, request, queryset):
    set_status(modeladmin, request, queryset, AgentStatus.OFFLINE)


STATUS_FORM_FIELDS = {"status", "status_reason", "break_length"}
HISTORY_ROWS = 30


class AgentAdminForm(forms.ModelForm):
    break_length = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[
            ("", "keep (a break already set keeps its end)"),
            ("0", "until changed"),
            *BREAK_LENGTHS[1:],
        ],
        help_text="For a break: it ends by itself after this long, and the agent "
        "is available again.",
    )

    class Meta:
        model = Agent
        fields = [
            "name",
            "phone",
            "status",
            "status_reason",
            "active",
            "timezone",
            "missed_in_row",
        ]


def history_rows(agent: Agent) -> list[tuple]:
    """Return the agent's latest status changes as table cells, newest first."""
    changes = agent.status_changes.select_related("user")[:HISTORY_ROWS]
    return [
        (
            f"{timezone.localtime(change.changed_at):%d %b %Y %H:%M}",
            change.get_old_status_display(),
            describe_status(
                change.new_status, change.reason, change.until, now=change.changed_at
            ),
            change.get_via_display(),
            change.user.get_username() if change.user else "",
        )
        for change in changes
    ]


def issue_link_page(
    request, *, agent: Agent, back_url: str, back_label: str, context: dict
):
    """Make a new personal link for `agent` and show it, this once.

    A GET asks first: the new link ends the old one.
    """
    if request.method == "GET":
        return TemplateResponse(
            request,
            "personal/link_confirm.html",
            {
                **context,
                "title": f"Personal link: {agent.name}",
                "agent": agent,
                "back_url": back_url,
                "back_label": back_label,
            },
        )
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    token = issue_personal_token(agent=agent)
    response = TemplateResponse(
        request,
        "personal/link_issued.html",
        {
            **context,
            "title": f"Personal link: {agent.name}",
            "agent": agent,
            "link": request.build_absolute_uri(reverse("personal-page", args=[token])),
            "back_url": back_url,
            "back_label": back_label,
        },
    )
    add_never_cache_headers(response)
    return response


@admin.register(Agent)
class AgentAdmin(SupervisorAccess, admin.ModelAdmin):
    supervisor_can_delete = False
    list_display = [
        "name",
        "phone",
        "status_and_reason",
        "on_duty_now",
        "active",
        "group_names",
        "pages",
    ]
    list_filter = [GroupListFilter, "status", "active", OnDutyNowFilter, "timezone"]
    search_fields = ["name", "phone"]
    actions = [make_available, make_on_break, make_offline]
    action_form = StatusActionForm
    inlines = [
        AgentMembershipInline,
        AgentHoursInline,
        TimeOffInline,
        AgentSkillInline,
    ]
    form = AgentAdminForm
    fields = [
        "name",
        "phone",
        "status",
        "status_reason",
        "break_length",
        "status_now",
        "active",
        "timezone",
        "missed_in_row",
        "personal_link",
        "status_history",
        "pages",
    ]
    readonly_fields = ["status_now", "personal_link", "status_history", "pages"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .annotate(
                on_duty_now=rules.orm_condition(
                    rules.ON_DUTY, moment=timezone.now(), aliases=rules.ORM_AGENT
                )
            )
            .prefetch_related(
                Prefetch(
                    "memberships",
                    queryset=Membership.objects.filter(
                        group__in=AgentGroup.objects.visible_to(request.user)
                    ).select_related("group"),
                )
            )
        )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(
            request, queryset, search_term
        )
        try:
            phone = normalize_phone(search_term, strict=False)
        except ValidationError:
            return results, may_have_duplicates
        return results | queryset.filter(phone=phone), may_have_duplicates

    def changelist_view(self, request, extra_context=None):
        end_due_breaks(now=timezone.now())
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        end_due_breaks(now=timezone.now())
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:agent_id>/personal-link/",
                self.admin_site.admin_view(self.personal_link_view),
                name="agents_agent_personal_link",
            ),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        if not change:
            if obj.status == AgentStatus.BREAK:
                # "0" is until changed, as is "keep" on a new agent.
                obj.status_until = break_end(
                    form.cleaned_data["break_length"] or None, now=timezone.now()
                )
            super().save_model(request, obj, form, change)
            return
        wants_status = bool(STATUS_FORM_FIELDS & set(form.changed_data))
        others = [name for name in form.changed_data if name not in STATUS_FORM_FIELDS]
        # The status changes while the agent is active: before a deactivation,
        # after a reactivation. The other fields are saved alone, never the
        # engagement a call may have written since the form was opened.
        if wants_status and not obj.active:
            self.change_status(request, obj, form)
        if others:
            obj.save(update_fields=others)
        if wants_status and obj.active:
            self.change_status(request, obj, form)
            if "missed_in_row" in others:  # set by hand in the same form: it wins
                Agent.objects.filter(pk=obj.pk).update(missed_in_row=obj.missed_in_row)

    def change_status(self, request, obj, form) -> None:
        """Apply the form's status through the one status service."""
        now = timezone.now()
        stored = Agent.objects.get(pk=obj.pk)
        minutes = form.cleaned_data["break_length"]
        if minutes is not None:
            until = break_end(minutes or None, now=now)
        elif stored.status == AgentStatus.BREAK:
            until = stored.status_until  # "keep": the break goes on as set
        else:
            until = None
        outcome = set_agent_status(
            agents=Agent.objects.filter(pk=obj.pk),
            status=obj.status,
            reason=obj.status_reason,
            until=until,
            via=StatusVia.ADMIN,
            user=request.user,
            now=now,
        )
        if outcome.inactive:
            self.message_user(
                request,
                f"Status not changed: {obj.name} is inactive.",
                messages.WARNING,
            )

    def personal_link_view(self, request, agent_id: int):
        """Make a new personal link for one agent and show it, once."""
        agent = get_object_or_404(self.get_queryset(request), pk=agent_id)
        if not self.has_change_permission(request, agent):
            raise PermissionDenied
        return issue_link_page(
            request,
            agent=agent,
            back_url=reverse("admin:agents_agent_change", args=[agent_id]),
            back_label="the agent's page",
            context=self.admin_site.each_context(request),
        )

    @admin.display(description="status now")
    def status_now(self, agent):
        if agent.pk is None:
            return "-"
        text = describe_status(
            agent.status, agent.status_reason, agent.status_until, now=timezone.now()
        )
        return (
            f"{text} (since {timezone.localtime(agent.status_changed_at):%d %b %H:%M})"
        )

    @admin.display(description="personal link")
    def personal_link(self, agent):
        if agent.pk is None:
            return "Save the agent first."
        state = (
            "A link is set; it is not shown again."
            if agent.personal_token_hash
            else "No link yet."
        )
        # A link, not a button: the change form's first button is what Enter presses.
        return format_html(
            '{} <a class="button" href="{}">{}</a>',
            state,
            reverse("admin:agents_agent_personal_link", args=[agent.pk]),
            "Make a new link (the old one stops)"
            if agent.personal_token_hash
            else "Make a link",
        )

    @admin.display(description="status history (newest first)")
    def status_history(self, agent):
        if agent.pk is None:
            return "-"
        rows = history_rows(agent)
        if not rows:
            return "No change recorded yet."
        return format_html(
            "<table><thead><tr><th>when</th><th>from</th><th>to</th><th>via</th>"
            "<th>who</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                rows,
            ),
        )

    @admin.display(boolean=True, description="on duty now", ordering="on_duty_now")
    def on_duty_now(self, agent):
        return agent.on_duty_now

    @admin.display(description="status", ordering="status")
    def status_and_reason(self, agent):
        return format_html(
            '{}{}<br><span class="quiet">since {}</span>',
            agent.get_status_display(),
            f": {agent.status_reason}" if agent.status_reason else "",
            formats.date_format(
                timezone.localtime(agent.status_changed_at), "DATETIME_FORMAT"
            ),
        )

    @admin.display(description="groups (tier)")
    def group_names(self, agent):
        return format_html_join(
            "",
            '<span class="nowrap">{} ({})</span><br>',
            (
                (membership.group.name, membership.priority)
                for membership in agent.memberships.all()
            ),
        )

    @admin.display(description="supervisor pages")
    def pages(self, agent):
        if agent.pk is None:
            return "(after the agent is saved)"
        calls = reverse("admin:routing_call_changelist") + f"?agent={agent.pk}"
        boards = [
            (reverse("supervisor-board", args=[m.group.slug]), m.group.name)
            for m in agent.memberships.all()
        ]
        return format_html(
            '<span class="related-pages"><a href="{}">calls offered</a></span>{}{}',
            calls,
            mark_safe("<br>board: ") if boards else "",
            format_html_join(", ", '<a href="{}">{}</a>', boards),
        )
