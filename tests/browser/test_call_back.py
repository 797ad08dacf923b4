"""The call-back button in a real browser, at 1280x800."""

import pytest
from django.utils import timezone

from routing.models import Call, CallResult
from tests.browser.test_supervisor_pages import log_in, roster  # noqa: F401
from tests.exotel_api.fake import serve_fake_exotel

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CALLER = "+919812345678"


@pytest.fixture
def fake_exotel(settings):
    settings.EXOTEL_CALLER_ID = "+918047000000"
    yield from serve_fake_exotel(settings)


def test_the_call_back_button_calls_the_agent_then_the_caller(
    page,
    live_server,
    roster,  # noqa: F811
    fake_exotel,
    screenshot,
):
    page.set_viewport_size({"width": 1280, "height": 800})
    Call.objects.create(
        sid="missed1",
        caller=CALLER,
        group=roster["Asha"].memberships.get().group,
        result=CallResult.NOT_ANSWERED,
        ended_at=timezone.now(),
    )
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin/supervisor/groups/support/missed-callers/")
    row = page.locator(f'tr[data-caller="{CALLER}"]')
    button = row.locator("button.call-back-button")
    assert button.is_visible()
    box = button.bounding_box()
    assert box["x"] + box["width"] <= 1280  # on screen, no sideways scrolling
    button.click()
    page.wait_for_load_state()
    assert f"Calling Asha first, then {CALLER}." in page.content()
    screenshot("11-call-back")
    (seen,) = fake_exotel.requests("POST")
    assert (seen.form["From"], seen.form["To"]) == ("+919800000001", CALLER)
