"""Request guards around the Exotel webhooks: bounded input, metrics, and a
one-line text/plain 405 for a method a webhook does not take.

Elsewhere (the admin, the supervisor and personal pages) a NUL character in the
query is a 400: no filter, search or form value holds one, and PostgreSQL
refuses it in any text it is given.

Django parses the query string lazily and, past DATA_UPLOAD_MAX_NUMBER_FIELDS,
answers with its HTML error page; Exotel and operators get the one-line
text/plain 400 of every other bad request instead. (A path part too long for a
column, such as a 200-character slug, is the views' to answer: 404, logged with
the slug cut to the column; tests/routing/test_views_fuzz.py holds them to it.)
"""

import time

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from routing import metrics
from routing.http.answering import text_response

WEBHOOK_PREFIX = "/exotel/"


class WebhookGuardMiddleware:
    """Bound what Exotel-facing requests may carry, and count and time them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(WEBHOOK_PREFIX):
            return self._guarded(request)
        started = time.perf_counter()
        response = self._guarded(request)
        if isinstance(response, HttpResponseNotAllowed):
            # Django's 405 is an empty HTML page: Exotel's paths answer one line.
            allowed = response["Allow"]
            response = text_response(f"method not allowed: {allowed} only", status=405)
            response["Allow"] = allowed
        match = getattr(request, "resolver_match", None)
        metrics.observe_request(
            endpoint=match.url_name if match and match.url_name else "unmatched",
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response

    def _guarded(self, request: HttpRequest) -> HttpResponse:
        try:
            request.GET  # noqa: B018 (parsed now, under Django's field limit)
            if request.method == "POST" and request.path.startswith(WEBHOOK_PREFIX):
                request.POST  # noqa: B018
        except TooManyFieldsSent:
            return text_response("too many parameters", status=400)
        except RequestDataTooBig:
            return text_response("request body too large", status=400)
        # The webhooks keep their own rules (a NUL is dropped from the request log).
        if not request.path.startswith(WEBHOOK_PREFIX) and any(
            "\x00" in key or "\x00" in value
            for key, values in request.GET.lists()
            for value in values
        ):
            return text_response("NUL character in the query", status=400)
        return self.get_response(request)
