"""Prometheus metrics: webhook traffic, degraded answers, the spool, the breaker.

Under gunicorn every worker writes its samples to `PROMETHEUS_MULTIPROC_DIR`
(gunicorn.conf.py sets it before any worker imports this module, and removes a
dead worker's live gauges); a scrape adds them up. Without that variable (tests,
`runserver`) the samples live in this process. The scrape itself reads the spool
directory and asks the database how many agents are engaged per group.

`/metrics` is not public: it answers 404 unless `DIALWHOM_METRICS_TOKEN` is set
and the request carries it as `Authorization: Bearer <token>`.
"""

import os

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from routing.outage.breaker import OPEN, breaker

REQUESTS = Counter(
    "dialwhom_webhook_requests",
    "Exotel webhook requests answered, by endpoint and HTTP status.",
    ["endpoint", "status"],
)
LATENCY = Histogram(
    "dialwhom_webhook_request_duration_seconds",
    "Time from receiving an Exotel webhook request to its answer, in the server.",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 5.0),
)
DEGRADED = Counter(
    "dialwhom_degraded_answers",
    "Requests answered without the database (last-known list, 503, or outcome "
    "spooled), by endpoint.",
    ["endpoint"],
)
SPOOLED = Counter(
    "dialwhom_spooled_requests",
    "Requests written to the outage spool, by endpoint.",
    ["endpoint"],
)
SPOOL_DROPPED = Counter(
    "dialwhom_spool_dropped_requests",
    "Requests the outage spool could not keep (file full or unwritable).",
    ["endpoint"],
)
REPLAYED = Counter(
    "dialwhom_replayed_records",
    "Spooled records replayed into the database, by result "
    "(applied, conflicts, duplicates, unreadable).",
    ["result"],
)
BREAKER_OPEN = Gauge(
    "dialwhom_db_breaker_open",
    "1 while a process remembers the database as unreachable.",
    multiprocess_mode="livemax",
)
BREAKER_TRIPS = Counter(
    "dialwhom_db_breaker_trips",
    "Times a process found the database unreachable and opened its breaker.",
)
BREAKER_OPEN.set(0)


def _breaker_changed(state: str) -> None:
    BREAKER_OPEN.set(1 if state == OPEN else 0)
    if state == OPEN:
        BREAKER_TRIPS.inc()


breaker.on_change(_breaker_changed)


def observe_request(*, endpoint: str, status: int, seconds: float) -> None:
    REQUESTS.labels(endpoint=endpoint, status=str(status)).inc()
    LATENCY.labels(endpoint=endpoint).observe(seconds)


class _ScrapeCollector:
    """What a scrape reads afresh: the spool backlog and engaged agents."""

    def collect(self):
        from routing.outage import spool

        backlog = GaugeMetricFamily(
            "dialwhom_spool_pending_records",
            "Spooled records on this host still waiting to be replayed.",
        )
        backlog.add_metric([], spool.pending_records())
        yield backlog
        engaged = _engaged_by_group()
        if engaged is not None:
            family = GaugeMetricFamily(
                "dialwhom_engaged_agents",
                "Active members a call holds now (ringing, on a call or wrap-up), "
                "by group.",
                labels=["group"],
            )
            for slug, count in engaged:
                family.add_metric([slug], count)
            yield family


def _engaged_by_group() -> list[tuple[str, int]] | None:
    from agents.models import AgentGroup
    from routing.outage.deadline import database_deadline

    now = timezone.now()
    try:
        with database_deadline():
            return list(
                AgentGroup.objects.order_by("slug")
                .annotate(
                    engaged=Count(
                        "memberships",
                        filter=Q(
                            memberships__active=True,
                            memberships__agent__active=True,
                            memberships__agent__engaged_until__gt=now,
                        ),
                    )
                )
                .values_list("slug", "engaged")
            )
    except DatabaseError:
        return None


def render() -> bytes:
    """Return every metric in Prometheus's text format."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        registry.register(_ScrapeCollector())
        return generate_latest(registry)
    scrape = CollectorRegistry()
    scrape.register(_ScrapeCollector())
    return generate_latest(REGISTRY) + generate_latest(scrape)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Serve the metrics to a scraper that shows the bearer token; 404 otherwise."""
    expected = settings.DIALWHOM_METRICS_TOKEN
    given = request.headers.get("Authorization", "")
    if not expected or not constant_time_compare(given, f"Bearer {expected}"):
        raise Http404("not found")
    return HttpResponse(render(), content_type=CONTENT_TYPE_LATEST)
