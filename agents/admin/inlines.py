"""What is edited under a group or an agent: memberships, hours, time off, holidays."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet

from agents.admin.access import SupervisorAccess
from agents.models import (
    Agent,
    AgentGroup,
    AgentHours,
    AgentSkill,
    GroupHours,
    Holiday,
    Membership,
    TimeOff,
)


class MembershipFormSet(BaseInlineFormSet):
    # Set by the inline for supervisors: an agent they add or edit must stay in
    # one of their groups, or it would vanish from their sight.
    require_membership = False

    def clean(self):
        super().clean()
        if not self.require_membership:
            return
        kept = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("group")
        ]
        if not kept:
            raise ValidationError("Keep the agent in at least one of your groups.")


class MembershipInline(SupervisorAccess, admin.TabularInline):
    model = Membership
    extra = 0
    fields = ["group", "agent", "priority", "position", "active"]

    def get_queryset(self, request):
        # Memberships in other supervisors' groups stay hidden and untouched.
        visible = AgentGroup.objects.visible_to(request.user)
        return (
            super()
            .get_queryset(request)
            .filter(group__in=visible)
            .select_related("agent", "group")
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "group":
            kwargs["queryset"] = AgentGroup.objects.visible_to(request.user)
        if db_field.name == "agent":
            kwargs["queryset"] = Agent.objects.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AgentMembershipInline(MembershipInline):
    fields = ["group", "priority", "position", "active"]
    formset = MembershipFormSet

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.require_membership = not request.user.is_superuser
        return formset


class GroupMembershipInline(MembershipInline):
    fields = ["agent", "priority", "position", "active"]
    autocomplete_fields = ["agent"]


class WeeklyHoursWidgets:
    # Weekly hours are times of any day on the agent's or group's own clock: the
    # admin's clock widget (a "Now" link, a note on the browser's offset from the
    # server) means nothing for them.
    formfield_overrides = {
        models.TimeField: {
            "widget": forms.TimeInput(
                format="%H:%M", attrs={"size": 5, "placeholder": "HH:MM"}
            )
        }
    }


class AgentHoursInline(WeeklyHoursWidgets, SupervisorAccess, admin.TabularInline):
    model = AgentHours
    extra = 0


class GroupHoursInline(WeeklyHoursWidgets, SupervisorAccess, admin.TabularInline):
    model = GroupHours
    extra = 0


class AgentSkillInline(SupervisorAccess, admin.TabularInline):
    model = AgentSkill
    extra = 1
    verbose_name = "skill"
    verbose_name_plural = "skills (level 1 = some, 5 = best)"


class TimeOffInline(SupervisorAccess, admin.TabularInline):
    model = TimeOff
    extra = 0


class HolidayInline(SupervisorAccess, admin.TabularInline):
    model = Holiday
    extra = 0
