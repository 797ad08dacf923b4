"""The API client against the fake Exotel: shapes, errors, retries, timeouts."""

import base64
import threading
import time

import pytest
from django.db import connection

from routing.exotel_api.client import ExotelApiError, ExotelApiOff, ExotelClient
from routing.exotel_api.ratelimit import RateLimiter
from routing.models import ApiRateBucket
from tests.exotel_api.fake import KEY, TOKEN, Failure

pytestmark = pytest.mark.django_db


class VirtualClock:
    """A clock that only sleeping moves; `sleeps` lists the waits."""

    def __init__(self):
        self.now = 1_000_000.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock():
    return VirtualClock()


@pytest.fixture
def sleeps(clock):
    return clock.sleeps


@pytest.fixture
def client(fake_exotel, clock):
    with ExotelClient.from_settings(clock=clock, sleep=clock.sleep) as client:
        yield client


def test_off_without_the_account(settings):
    settings.EXOTEL_API_TOKEN = ""
    with pytest.raises(ExotelApiOff, match="Exotel's API is off"):
        ExotelClient.from_settings()


def test_call_details_with_and_without_details(client, fake_exotel):
    fake_exotel.add_call("sid1", details={"ConversationDuration": 71})
    assert client.call_details("sid1")["Details"] == {"ConversationDuration": 71}
    assert "Details" not in client.call_details("sid1", details=False)
    gets = fake_exotel.requests("GET")
    assert [seen.path for seen in gets] == ["/v1/Accounts/acme1/Calls/sid1.json"] * 2
    assert [seen.query for seen in gets] == [{"details": "true"}, {}]


def test_connect_posts_the_form_and_returns_the_call(client, fake_exotel):
    call = client.connect(
        first="+919900000001",
        second="+919800000002",
        caller_id="+918047000000",
        status_callback="http://127.0.0.1:1/cb/",
        custom_field="x" * 200,
    )
    assert call["Status"] == "in-progress"
    (seen,) = fake_exotel.requests("POST")
    assert seen.path == "/v1/Accounts/acme1/Calls/connect.json"
    assert seen.form["From"] == "+919900000001"
    assert seen.form["To"] == "+919800000002"
    assert seen.form["CallerId"] == "+918047000000"
    assert seen.form["StatusCallbackEvents[0]"] == "terminal"
    assert seen.form["StatusCallbackContentType"] == "application/json"
    assert len(seen.form["CustomField"]) == 128


def test_a_404_is_an_error_that_says_not_found(client):
    with pytest.raises(ExotelApiError) as raised:
        client.call_details("nosuchsid")
    assert raised.value.not_found
    assert str(raised.value) == (
        "Exotel API GET Calls/nosuchsid.json: HTTP 404: Call nosuchsid not found"
    )


def test_a_wrong_token_is_a_one_line_401_without_the_secrets(client, settings):
    settings.EXOTEL_API_TOKEN = "wrong-token"
    with ExotelClient.from_settings() as wrong, pytest.raises(ExotelApiError) as raised:
        wrong.call_details("sid1")
    message = str(raised.value)
    assert raised.value.status == 401
    assert message.endswith("HTTP 401: Authentication is required")
    assert "\n" not in message
    assert KEY not in message and TOKEN not in message


def test_a_rest_exception_body_becomes_one_line(client, fake_exotel):
    body = {"RestException": {"Status": 400, "Message": "bad\n  From", "Code": 13}}
    fake_exotel.fail_next(Failure(400, body=body))
    with pytest.raises(ExotelApiError, match=r"HTTP 400: bad From \(code 13\)$"):
        client.call_details("sid1")


@pytest.mark.parametrize(
    ("failure", "waited"),
    [
        (Failure(429, retry_after="7"), 7.0),
        (Failure(429), 1.0),
        (Failure(503), 1.0),
        (Failure(500, retry_after="3"), 3.0),
    ],
    ids=["429-retry-after", "429-backoff", "503-backoff", "500-retry-after"],
)
def test_get_is_retried_honouring_retry_after(
    client, fake_exotel, sleeps, failure, waited
):
    fake_exotel.add_call("sid1")
    fake_exotel.fail_next(failure)
    assert client.call_details("sid1")["Sid"] == "sid1"
    assert sum(sleeps) == pytest.approx(waited, abs=0.1)
    assert len(fake_exotel.requests()) == 2


def test_backoff_doubles_then_gives_up(client, fake_exotel, sleeps):
    fake_exotel.fail_next(*[Failure(502)] * 4)
    with pytest.raises(ExotelApiError, match="HTTP 502"):
        client.call_details("sid1")
    assert sleeps == [1.0, 2.0, 4.0]
    assert len(fake_exotel.requests()) == 4


def test_a_429_holds_off_every_process(client, fake_exotel, clock):
    fake_exotel.add_call("sid1")
    fake_exotel.fail_next(Failure(429, retry_after="30"))
    started = clock.now
    client.call_details("sid1")
    # The wait was kept in the shared bucket: another process (another limiter
    # on the same row) that asked meanwhile would have waited as long.
    assert clock.now - started == pytest.approx(30, abs=0.01)
    other = RateLimiter(per_minute=200, clock=clock, sleep=clock.sleep)
    other.hold_off(30)
    assert other.acquire() == pytest.approx(30, abs=0.01)
    assert ApiRateBucket.objects.count() == 1


def test_connect_is_not_repeated_after_a_5xx(client, fake_exotel):
    fake_exotel.fail_next(Failure(500))
    with pytest.raises(ExotelApiError, match="HTTP 500"):
        client.connect(first="+919900000001", second="+919800000002", caller_id="1")
    assert len(fake_exotel.requests()) == 1


def test_connect_is_repeated_after_a_429(client, fake_exotel):
    fake_exotel.fail_next(Failure(429))
    call = client.connect(first="+919900000001", second="+919800000002", caller_id="1")
    assert call["Direction"] == "outbound-api"
    assert len(fake_exotel.requests()) == 2


def test_a_response_that_never_comes_times_out(client, fake_exotel):
    fake_exotel.fail_next(*[Failure(0)] * 4)
    started = time.monotonic()
    with pytest.raises(ExotelApiError, match="no answer within the timeout"):
        client.call_details("sid1")
    assert len(fake_exotel.requests()) == 4  # a GET is repeated
    assert time.monotonic() - started < 4 * 0.5 + 2


def test_connect_that_never_answers_is_not_repeated(client, fake_exotel):
    fake_exotel.fail_next(Failure(0))
    with pytest.raises(ExotelApiError, match="no answer within the timeout"):
        client.connect(first="+919900000001", second="+919800000002", caller_id="1")
    assert len(fake_exotel.requests()) == 1


def test_a_malformed_sid_never_leaves(client, fake_exotel):
    with pytest.raises(ExotelApiError, match="not a CallSid"):
        client.call_details("../Calls")
    assert fake_exotel.requests() == []


def test_rate_limiter_never_lets_a_minute_hold_more_than_the_limit(clock):
    limiter = RateLimiter(per_minute=200, clock=clock, sleep=clock.sleep)
    sent = []
    for _ in range(1000):
        limiter.acquire()
        sent.append(clock.now)
    windows = [sum(1 for t in sent if start <= t < start + 60) for start in sent]
    assert max(windows) <= 200
    # ... and it is not slower than it has to be.
    assert sent[-1] - sent[0] < 1000 / 180 * 60 + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_rate_limiter_is_shared_by_concurrent_processes():
    """Two workers (threads, own connections) draw from one bucket."""
    sent = []
    lock = threading.Lock()

    def worker():
        limiter = RateLimiter(per_minute=600)  # a burst of 60, then 9 a second
        try:
            for _ in range(40):
                limiter.acquire()
                with lock:
                    sent.append(time.monotonic())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.sort()
    assert len(sent) == 80
    # 60 at once, the other 20 at 9 a second: not 80 at once.
    assert sent[-1] - sent[0] >= 20 / 9 - 0.3
    assert sum(1 for t in sent if t < sent[0] + 1) <= 60 + 9 + 1


def test_retry_after_is_capped_at_a_minute(client, fake_exotel, sleeps):
    fake_exotel.add_call("sid1")
    fake_exotel.fail_next(Failure(503, retry_after="600"))
    client.call_details("sid1")
    assert sleeps == [60.0]


def test_retry_after_as_a_date(client, fake_exotel, sleeps):
    fake_exotel.add_call("sid1")
    fake_exotel.fail_next(Failure(503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"))
    client.call_details("sid1")
    assert sleeps == [0.0]  # a date gone by: at once


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_no_connection_at_all_is_repeated_then_one_line(settings, clock, method):
    from tests.servers import free_port

    settings.EXOTEL_ACCOUNT_SID, settings.EXOTEL_API_KEY = "acme1", KEY
    settings.EXOTEL_API_TOKEN = TOKEN
    settings.EXOTEL_API_BASE_URL = f"http://127.0.0.1:{free_port()}"
    with ExotelClient.from_settings(clock=clock, sleep=clock.sleep) as client:
        with pytest.raises(ExotelApiError, match="ConnectError") as raised:
            if method == "GET":
                client.call_details("sid1")
            else:
                client.connect(
                    first="+919900000001", second="+919800000002", caller_id="1"
                )
    assert clock.sleeps == [1.0, 2.0, 4.0]  # a call never placed may be repeated
    assert "\n" not in str(raised.value)


def test_the_secrets_reach_no_log_line(client, fake_exotel, settings, caplog):
    caplog.set_level("DEBUG")
    fake_exotel.add_call("sid1")
    client.call_details("sid1")
    settings.EXOTEL_API_TOKEN = "wrong"
    with ExotelClient.from_settings() as wrong, pytest.raises(ExotelApiError):
        wrong.call_details("sid1")
    assert caplog.text  # httpx logged the requests
    assert KEY not in caplog.text and TOKEN not in caplog.text
    basic = base64.b64encode(f"{KEY}:{TOKEN}".encode()).decode()
    assert basic not in caplog.text
