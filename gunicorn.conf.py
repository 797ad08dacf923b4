"""gunicorn settings for dialwhom: `gunicorn dialwhom_project.wsgi` reads this file.

The environment decides where and how wide (README, "Production deployment"):
DIALWHOM_BIND (host:port, or unix:/path) or PORT, and DIALWHOM_WORKERS.
"""

import multiprocessing
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dialwhom_project.logging import gunicorn_logger_class  # noqa: E402

# Prometheus metrics, added up over the workers (routing/metrics.py): each worker
# writes its samples here. Chosen before any worker imports prometheus_client,
# which reads the variable once; emptied when the master starts.
_own_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="dialwhom-metrics-"
    )

bind = os.environ.get("DIALWHOM_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"

# Sync workers: one request at a time each, one persistent database connection
# each (CONN_MAX_AGE), and the database deadline's watchdog cuts exactly that one.
# Measured with wrk on 2 cores beside PostgreSQL 15 (a busy machine, load ~8;
# dial-whom = a new CallSid per request to a pinned group, example roster):
#                      healthz rps  p50/p99 ms    dial-whom rps  p50/p99 ms
#   sync x5,     c8       505      14 / 50           33.8       227 / 466
#   gthread 2x4, c8       628      12 / 84           33.4       229 / 355
#   sync x5,    c16       564      25 / 71           25.4       579 / 1040
#   gthread 2x4,c16       678      23 / 144          41.8       362 / 974
#   sync x5,     c1       304       3 / 12           18.3        49 / 102
# The routing request is CPU-bound Python (~50 ms of it at c1): threads share
# one GIL, so gthread gains nothing that holds across runs on the endpoint that
# matters, and sync keeps the simpler connection model. Scale with workers.
worker_class = "sync"
workers = int(
    os.environ.get("DIALWHOM_WORKERS") or min(2 * multiprocessing.cpu_count() + 1, 12)
)

# A request takes milliseconds and gives up on the database within a second, so
# a worker silent for 5 s is stuck: kill and replace it well before Exotel's 10 s.
timeout = 5
graceful_timeout = 20
# Behind a proxy that keeps connections open to us.
keepalive = 5
# Recycle workers now and then, jittered so they do not all restart at once.
max_requests = 20000
max_requests_jitter = 2000

# No access log by default: the application writes one structured line per
# webhook request (DJANGO_LOG_FORMAT=json); gunicorn's own messages go to
# standard error. Whatever is turned on (--access-logfile), every line gunicorn
# writes and its own error pages have the webhook token masked: /exotel/***/...
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
logger_class = gunicorn_logger_class


def on_starting(server):
    """Start with no metrics left over from an earlier run of the master."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """Drop a dead worker's live gauges (the breaker state) from the metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def post_worker_init(worker):
    """Import the URLconf, views and phone metadata before the first request.

    Django loads them lazily, which costs the first request half a second: too
    much for a worker that starts (or is recycled) while the database is down.
    """
    from django.urls import get_resolver

    from agents.phones import normalize_phone
    from routing.outage import spool

    get_resolver().resolve("/healthz")
    normalize_phone("+919900000000", strict=False)
    # Replays this worker's spool, and dead workers', whenever the database is up.
    spool.start_replayer()
