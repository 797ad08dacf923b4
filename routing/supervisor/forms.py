"""Forms of the supervisor pages."""

from django import forms
from django.core.exceptions import ValidationError

from agents.models import AgentStatus
from agents.phones import normalize_phone


class PreviewForm(forms.Form):
    caller = forms.CharField(
        required=False,
        max_length=30,
        help_text="Optional: the caller's number (for sticky routing).",
    )
    moment = forms.DateTimeField(
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
        ),
        help_text="Optional: when (server time zone); empty = now.",
    )

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


class ReportForm(forms.Form):
    date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class AgentTimeForm(forms.Form):
    # A text box, YYYY-MM-DD: the browser's date picker writes the browser's locale.
    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(
            format="%Y-%m-%d", attrs={"placeholder": "YYYY-MM-DD", "size": 10}
        ),
    )


class CoverageForm(forms.Form):
    days = forms.IntegerField(required=False, min_value=1, max_value=31)

    def days_or_default(self) -> int:
        return self.cleaned_data.get("days") or 7
