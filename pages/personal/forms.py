"""The personal page's form: the board's status form, with a phone's widgets."""

from django import forms

from pages.supervisor.forms import StatusForm


class PersonalStatusForm(StatusForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        minutes = self.fields["minutes"]
        minutes.widget = forms.RadioSelect(choices=minutes.choices)
        minutes.label = "How long"
        self.fields["reason"].widget.attrs.update(
            {"placeholder": "lunch, training...", "autocomplete": "off"}
        )
