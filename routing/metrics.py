"""Prometheus metrics: webhook traffic, degraded answers, the spool, the breaker.

Under gunicorn every worker writes its samples to `PROMETHEUS_MULTIPROC_DIR`
(gunicorn.conf.py sets it before any worker imports this module, and removes a
dead worker's live gauges); a scrape adds them up. Without that variable (tests,
`runserver`) the samples live in this process. The scrape itself, `/metrics`,
is `routing.http.metrics`.
"""

from prometheus_client import (
    Counter,
    Gauge,
    Histogram,
)

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


def watch_breaker() -> None:
    """Follow this process's breaker in the metrics (from `RoutingConfig.ready`)."""
    BREAKER_OPEN.set(0)
    breaker.on_change(_breaker_changed)


def _breaker_changed(state: str) -> None:
    BREAKER_OPEN.set(1 if state == OPEN else 0)
    if state == OPEN:
        BREAKER_TRIPS.inc()


def observe_request(*, endpoint: str, status: int, seconds: float) -> None:
    REQUESTS.labels(endpoint=endpoint, status=str(status)).inc()
    LATENCY.labels(endpoint=endpoint).observe(seconds)
