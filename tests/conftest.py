"""Fixtures shared by the whole suite."""

import os

import hypothesis
import pytest
from hypothesis import HealthCheck

# Property-based tests: a quick profile by default (CI), HYPOTHESIS_PROFILE=thorough
# for a long run. Fixtures hold a roster that every example shares on purpose.
_SHARED = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
    ],
}
hypothesis.settings.register_profile("ci", max_examples=300, **_SHARED)
hypothesis.settings.register_profile("thorough", max_examples=10_000, **_SHARED)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs `collectstatic`; tests render admin pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }
