"""The `/metrics` endpoint: the samples added up, and what a scrape reads afresh.

A scrape reads the spool directory and asks the database how many agents are
engaged per group, besides the samples of `routing.metrics`.

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
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from agents.models import AgentGroup
from routing.outage import spool
from routing.outage.deadline import database_deadline


class _ScrapeCollector:
    """What a scrape reads afresh: the spool backlog and engaged agents."""

    def collect(self):
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
