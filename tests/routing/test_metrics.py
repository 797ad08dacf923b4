"""/metrics: hidden without its bearer token; counts what the webhooks did."""

import re

import pytest

pytestmark = pytest.mark.django_db

METRICS_TOKEN = "scrape-secret-0123"


@pytest.fixture
def scrape(client, settings):
    settings.DIALWHOM_METRICS_TOKEN = METRICS_TOKEN

    def get() -> str:
        response = client.get(
            "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        assert response.status_code == 200
        return response.content.decode()

    return get


def sample(metrics: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = rf"^{name}(\{{{wanted}\}})? (\S+)$" if wanted else rf"^{name} (\S+)$"
    found = re.search(pattern, metrics, re.MULTILINE)
    return float(found.groups()[-1]) if found else 0.0


@pytest.mark.parametrize(
    "header",
    [None, "Bearer wrong", f"Basic {METRICS_TOKEN}", METRICS_TOKEN],
    ids=["no-header", "wrong-token", "wrong-scheme", "no-scheme"],
)
def test_metrics_answer_404_without_the_token(client, settings, header):
    settings.DIALWHOM_METRICS_TOKEN = METRICS_TOKEN
    headers = {"Authorization": header} if header else {}

    assert client.get("/metrics", headers=headers).status_code == 404


def test_metrics_answer_404_when_no_token_is_configured(client, settings):
    settings.DIALWHOM_METRICS_TOKEN = ""

    response = client.get("/metrics", headers={"Authorization": "Bearer "})

    assert response.status_code == 404


def test_requests_are_counted_by_endpoint_and_status(
    scrape, exotel, make_group, make_agent
):
    group = make_group("support", hold_seconds=300)
    make_agent("Asha", group)
    before = scrape()

    exotel.numbers("m-1", "support")
    exotel.dial_whom("m-2", "nosuchgroup")
    exotel.passthru("bad sid")

    after = scrape()
    for endpoint, status in [
        ("dial-whom-group", "200"),
        ("dial-whom-group", "404"),
        ("passthru", "400"),
    ]:
        labels = {"endpoint": endpoint, "status": status}
        assert sample(after, "dialwhom_webhook_requests_total", **labels) == (
            sample(before, "dialwhom_webhook_requests_total", **labels) + 1
        )
    assert sample(after, "dialwhom_engaged_agents", group="support") == 1
    assert sample(after, "dialwhom_db_breaker_open") == 0
