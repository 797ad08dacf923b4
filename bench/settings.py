"""Benchmark settings: production's, plus the ceiling and floor views (bench/urls.py).

Selected only by bench/run (DJANGO_SETTINGS_MODULE=bench.settings), so the
production URLconf never serves a benchmark endpoint.
"""

from dialwhom_project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
