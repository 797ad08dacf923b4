"""Call-backs' status callbacks (DESIGN section 11): POST, form or JSON; always 200."""

import json
import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from routing.calls.callbacks import record_status_callback
from routing.exotel.status_callback import StatusCallbackError, parse_status_callback
from routing.http.answering import check_webhook_token, text_response

logger = logging.getLogger("routing.requests")


@csrf_exempt
@require_POST
def callback_events(request: HttpRequest, token: str) -> HttpResponse:
    """Record what Exotel reports of a call-back; 200 with an empty body."""
    check_webhook_token(token)
    if request.content_type == "application/json":
        try:
            fields = json.loads(request.body or b"{}")
        except ValueError:
            fields = {}
        fields = fields if isinstance(fields, dict) else {}
    else:
        fields = {key: request.POST.get(key) for key in request.POST}
    try:
        callback = parse_status_callback(fields)
    except StatusCallbackError as rejection:
        note = str(rejection)
    else:
        note = record_status_callback(callback=callback, now=timezone.now())
    logger.info("callback-events %s", note[:300])
    return text_response("")


def status_callback_url(request: HttpRequest) -> str:
    """Return the absolute URL Exotel posts a call-back's status to (with the
    token): on `DIALWHOM_PUBLIC_URL` when set, else on the request's host."""
    tokens = settings.DIALWHOM_WEBHOOK_TOKENS
    path = reverse("callback-events", kwargs={"token": tokens[0] if tokens else "-"})
    path = path.rstrip("/") + "/"
    if settings.DIALWHOM_PUBLIC_URL:
        return settings.DIALWHOM_PUBLIC_URL.rstrip("/") + path
    return request.build_absolute_uri(path)
