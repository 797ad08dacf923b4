import pytest

from tests.exotel_api.fake import serve_fake_exotel


@pytest.fixture
def fake_exotel(settings):
    """A fake Exotel API, and the settings that point the service at it."""
    settings.EXOTEL_API_TIMEOUT_SECONDS = 0.5
    yield from serve_fake_exotel(settings)
