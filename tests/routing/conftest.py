"""Fixtures of the routing tests: every test starts with no outage remembered."""

import pytest

from routing.outage.breaker import breaker


@pytest.fixture(autouse=True)
def _no_outage_remembered(settings, tmp_path):
    settings.DIALWHOM_SPOOL_DIR = tmp_path / "spool"
    breaker.reset()
    yield
    breaker.reset()
