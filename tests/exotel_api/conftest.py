import pytest

from tests.exotel_api.fake import KEY, SID, TOKEN, FakeExotel


@pytest.fixture
def fake_exotel(settings):
    """A fake Exotel API, and the settings that point the service at it."""
    fake = FakeExotel().start()
    settings.EXOTEL_ACCOUNT_SID = SID
    settings.EXOTEL_API_KEY = KEY
    settings.EXOTEL_API_TOKEN = TOKEN
    settings.EXOTEL_API_BASE_URL = fake.base_url
    settings.EXOTEL_API_TIMEOUT_SECONDS = 0.5
    yield fake
    fake.stop()
