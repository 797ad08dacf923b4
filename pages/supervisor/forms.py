"""Forms of the supervisor pages."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError

from agents.models import AgentStatus, Route
from agents.phones import normalize_phone
from pages.reports.figures import MAX_DAYS

# The days a page may ask about: the pages step a day or a period either side,
# and a date near year 1 or 9999 has no neighbour (and no time zone conversion).
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2999, 12, 31)
OUT_OF_RANGE = f"Choose a date from {EARLIEST} to {LATEST}."


def _in_range(value: dt.date | dt.datetime) -> None:
    day = value.date() if isinstance(value, dt.datetime) else value
    if not EARLIEST <= day <= LATEST:
        raise ValidationError(OUT_OF_RANGE)


class PreviewForm(forms.Form):
    caller = forms.CharField(
        required=False,
        max_length=30,
        help_text="Optional: the caller's number (sticky agent, known caller).",
    )
    route = forms.ModelChoiceField(
        queryset=Route.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label="(none: the group itself)",
        help_text="Optional: the route the call takes, with its needs.",
    )
    moment = forms.DateTimeField(
        label="When",
        required=False,
        input_formats=["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(
            format="%Y-%m-%d %H:%M",
            attrs={"placeholder": "YYYY-MM-DD HH:MM", "size": 16},
        ),
        error_messages={"invalid": "Write it as YYYY-MM-DD HH:MM (2026-12-01 14:30)."},
        validators=[_in_range],
        help_text="Optional: when, on the group's clock, 24-hour; empty = now.",
    )

    def __init__(self, *args, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        if group is not None:
            self.fields["route"].queryset = Route.objects.filter(group=group)

    def clean_caller(self) -> str:
        caller = self.cleaned_data["caller"].strip()
        if not caller:
            return ""
        try:
            return normalize_phone(caller, strict=False)
        except ValidationError as error:
            raise ValidationError(f"Not a phone number: {caller}") from error


BREAK_MINUTES = [
    ("", "until changed"),
    ("15", "15 minutes"),
    ("30", "30 minutes"),
    ("60", "60 minutes"),
]


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=AgentStatus.choices)
    reason = forms.CharField(required=False, max_length=200)
    minutes = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=BREAK_MINUTES,
    )


def _date_field(label: str) -> forms.DateField:
    # A text box, not the browser's date picker: the picker writes the date in
    # the browser's locale (mm/dd in the US), and the page writes YYYY-MM-DD.
    return forms.DateField(
        label=label,
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(
            format="%Y-%m-%d",
            attrs={"placeholder": "YYYY-MM-DD", "size": 10, "inputmode": "numeric"},
        ),
        error_messages={"invalid": "Write the date as YYYY-MM-DD (2026-12-01)."},
        validators=[_in_range],
    )


class AgentTimeForm(forms.Form):
    date = _date_field("Day")


class PeriodForm(forms.Form):
    """A day, or a range of days up to `MAX_DAYS`, on the group's calendar."""

    start = _date_field("From")
    end = _date_field("to")

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                raise ValidationError("The end comes before the start.")
            if (end - start).days >= MAX_DAYS:
                raise ValidationError(f"Choose at most {MAX_DAYS} days.")
        return data

    def period(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """Return (start, end), inclusive: today when nothing valid was given."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        start = data.get("start") or data.get("end") or today
        return start, data.get("end") or start


class CallBackForm(forms.Form):
    caller = forms.CharField(max_length=20)


class CoverageForm(forms.Form):
    days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=31,
        widget=forms.NumberInput(attrs={"placeholder": "7"}),
    )

    def days_or_default(self) -> int:
        return self.cleaned_data.get("days") or 7
