"""The "Call back" button of the callers to call back (DESIGN section 11)."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from pages.supervisor.forms import CallBackForm
from pages.supervisor.views import _group
from routing.calls.callbacks import place_callback
from routing.http.callback_events import status_callback_url


@require_POST
def call_back(request: HttpRequest, slug: str) -> HttpResponse:
    """Place a call-back to the posted caller; say in one line how it went."""
    group = _group(request, slug)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("supervisor-missed-callers", args=[group.slug])
    form = CallBackForm(request.POST)
    if not form.is_valid():
        messages.error(request, "No caller to call back.")
        return redirect(back)
    placed = place_callback(
        group=group,
        caller=form.cleaned_data["caller"],
        status_callback_url=status_callback_url(request),
        now=timezone.now(),
    )
    (messages.success if placed.ok else messages.error)(request, placed.message)
    return redirect(back)
