"""Reference views: what Django and gunicorn cost with nothing to do, and with one
durable INSERT (the least any endpoint that records an offer must pay)."""

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from routing.models import WebhookRequest


@require_GET
def ceiling(request: HttpRequest) -> HttpResponse:
    """Answer at once: the ceiling of the server's throughput."""
    return HttpResponse("", content_type="text/plain")


@require_GET
def floor(request: HttpRequest) -> HttpResponse:
    """Insert one row in a transaction of its own, then answer."""
    with transaction.atomic():
        WebhookRequest.objects.create(
            endpoint=WebhookRequest.Endpoint.DIAL_WHOM,
            call_sid=request.GET.get("CallSid", "")[:64],
            status_code=200,
            duration_ms=0,
        )
    return HttpResponse("", content_type="text/plain")
