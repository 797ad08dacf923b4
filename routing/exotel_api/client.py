"""A small client of Exotel's REST API (v1, JSON): Call Details and Connect.

What is known of the API is `../shared/exotel/api.md`. Every request:
- asks for JSON (`.json` paths; XML is never read);
- has a timeout (`EXOTEL_API_TIMEOUT_SECONDS`) on connecting, sending and reading;
- first takes a token of the account's rate limit, shared by every process
  (`routing.exotel_api.ratelimit`);
- is retried with exponential backoff on 429 and 5xx, waiting as long as a
  `Retry-After` header says when there is one. A GET is also retried after a
  timeout or a dropped connection. A POST that places a call is retried only
  when Exotel certainly did not take it (a 429, or no connection at all): a
  5xx or a timeout may have placed the call, and a second one would ring twice;
- fails with an `ExotelApiError` whose message is one line, taken from the
  `RestException` body when there is one, and never holds the key or token
  (they travel in the Authorization header, never in a URL).
"""

import datetime as dt
import email.utils
import re
import time
from collections.abc import Callable, Mapping

import httpx
from django.conf import settings

from routing.exotel_api.account import OFF_REASON, Account, configured_account
from routing.exotel_api.ratelimit import RateLimiter

RETRIES = 3
BACKOFF_SECONDS = 1.0
MAX_WAIT_SECONDS = 60.0
MAX_MESSAGE = 200
CALL_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ExotelApiError(Exception):
    """A request Exotel refused or never answered; `str()` is one line."""

    def __init__(self, message: str, *, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def not_found(self) -> bool:
        return self.status == 404


class ExotelApiOff(ExotelApiError):
    """The account is not configured (`routing.exotel_api.account.OFF_REASON`)."""


class ExotelClient:
    def __init__(
        self,
        account: Account,
        *,
        limiter: RateLimiter | None = None,
        timeout: float | None = None,
        retries: int = RETRIES,
        backoff: float = BACKOFF_SECONDS,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.account = account
        self.limiter = limiter or RateLimiter(
            per_minute=settings.EXOTEL_API_REQUESTS_PER_MINUTE, clock=clock, sleep=sleep
        )
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        seconds = settings.EXOTEL_API_TIMEOUT_SECONDS if timeout is None else timeout
        self.http = httpx.Client(
            auth=(account.api_key, account.api_token),
            timeout=httpx.Timeout(seconds),
            headers={"Accept": "application/json"},
            follow_redirects=False,
        )

    @classmethod
    def from_settings(cls, **options) -> "ExotelClient":
        """Return a client of the configured account; ExotelApiOff when unset."""
        account = configured_account()
        if account is None:
            raise ExotelApiOff(OFF_REASON)
        return cls(account, **options)

    def __enter__(self) -> "ExotelClient":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def call_details(self, call_sid: str, *, details: bool = True) -> dict:
        """Return the `Call` object of `call_sid` (with `Details` when asked)."""
        if not CALL_SID.match(call_sid):
            raise ExotelApiError(f"not a CallSid: {call_sid[:70]!r}")
        params = {"details": "true"} if details else None
        body = self._request("GET", f"Calls/{call_sid}.json", params=params)
        return _call_of(body)

    def connect(
        self,
        *,
        first: str,
        second: str,
        caller_id: str,
        status_callback: str = "",
        custom_field: str = "",
        time_limit: int | None = None,
        time_out: int | None = None,
    ) -> dict:
        """Place a call that rings `first`, then `second`; return its `Call` object.

        The status callback is asked for the terminal and answered events, as
        JSON.
        """
        form = {"From": first, "To": second, "CallerId": caller_id, "CallType": "trans"}
        if status_callback:
            form["StatusCallback"] = status_callback
            form["StatusCallbackEvents[0]"] = "terminal"
            form["StatusCallbackEvents[1]"] = "answered"
            form["StatusCallbackContentType"] = "application/json"
        if custom_field:
            form["CustomField"] = custom_field[:128]
        if time_limit:
            form["TimeLimit"] = str(time_limit)
        if time_out:
            form["TimeOut"] = str(time_out)
        body = self._request("POST", "Calls/connect.json", data=form)
        return _call_of(body)

    def _request(
        self,
        method: str,
        tail: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> dict:
        url = self.account.path(tail)
        safe_to_repeat = method == "GET"
        what = f"{method} {tail}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            self.limiter.acquire()
            try:
                response = self.http.request(method, url, params=params, data=data)
            except httpx.TimeoutException as error:
                failure = ExotelApiError(
                    self._line(f"{what}: no answer within the timeout ({error!r})")
                )
                if safe_to_repeat and not last:
                    self.sleep(self._backoff(attempt))
                    continue
                raise failure from None
            except httpx.TransportError as error:
                failure = ExotelApiError(
                    self._line(f"{what}: {type(error).__name__}: {error}")
                )
                if (safe_to_repeat or isinstance(error, httpx.ConnectError)) and (
                    not last
                ):
                    self.sleep(self._backoff(attempt))
                    continue
                raise failure from None
            if response.status_code == 429 or response.status_code >= 500:
                retry_after = _retry_after(response.headers.get("Retry-After"))
                wait = (
                    self._backoff(attempt)
                    if retry_after is None
                    else min(retry_after, MAX_WAIT_SECONDS)
                )
                if response.status_code == 429:
                    # Every process waits; this one in the limiter's acquire.
                    self.limiter.hold_off(wait)
                    if not last:
                        continue
                elif safe_to_repeat and not last:
                    self.sleep(wait)
                    continue
            if response.status_code >= 400:
                raise ExotelApiError(
                    self._line(f"{what}: {_error_text(response)}"),
                    status=response.status_code,
                )
            try:
                body = response.json()
            except ValueError:
                raise ExotelApiError(
                    self._line(f"{what}: HTTP {response.status_code}, not JSON"),
                    status=response.status_code,
                ) from None
            if not isinstance(body, dict):
                raise ExotelApiError(self._line(f"{what}: not a JSON object"))
            return body
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int) -> float:
        return min(self.backoff * 2**attempt, MAX_WAIT_SECONDS)

    def _line(self, text: str) -> str:
        line = " ".join(self.account.masked(f"Exotel API {text}").split())
        return line[:MAX_MESSAGE]


def _call_of(body: dict) -> dict:
    call = body.get("Call")
    if not isinstance(call, dict):
        raise ExotelApiError("Exotel API: the answer holds no Call object")
    return call


def _error_text(response: httpx.Response) -> str:
    """Return `HTTP 401: <RestException.Message>` (or the status alone)."""
    text = f"HTTP {response.status_code}"
    try:
        body = response.json()
    except ValueError:
        return text
    exception = body.get("RestException") if isinstance(body, dict) else None
    if isinstance(exception, dict):
        message = str(exception.get("Message") or "").strip()
        code = exception.get("Code")
        if message:
            text += f": {message}"
        if code not in (None, ""):
            text += f" (code {code})"
    return text


def _retry_after(value: str | None) -> float | None:
    """Return the seconds a `Retry-After` header asks for (seconds or a date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - dt.datetime.now(dt.UTC)).total_seconds(), 0.0)
