"""Exotel's per-account rate limit, kept in the database for every process.

Exotel allows an account 200 API requests a minute and answers 429 past that
(`../shared/exotel/api.md` 1.6). gunicorn's workers, cron's commands and other
machines share one account, so the count lives in one database row
(`routing.models.ApiRateBucket`), taken under a row lock: a token bucket of
`burst` tokens refilled at `(per_minute - burst) / 60` a second. In any window
of 60 seconds at most `burst + (per_minute - burst)` = `per_minute` requests
go out. A 429 from Exotel empties the bucket for every process.
"""

import time
from collections.abc import Callable

from django.db import transaction

from routing.models import ApiRateBucket

MINUTE = 60.0
# Rounding: a refill of 0.9999999 tokens is a token, and no wait is shorter than
# the clock can tell apart.
EPSILON = 1e-6
MIN_WAIT = 0.001


class RateLimiter:
    """Take one request's token, waiting for it when the bucket is empty."""

    def __init__(
        self,
        *,
        per_minute: int,
        name: str = "exotel",
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.name = name
        self.burst = max(1, per_minute // 10)
        self.rate = max(per_minute - self.burst, 1) / MINUTE  # tokens a second
        self.clock = clock
        self.sleep = sleep

    def acquire(self) -> float:
        """Wait until a request may go out; return the seconds waited."""
        waited = 0.0
        while True:
            wait = self._take()
            if wait <= 0:
                return waited
            self.sleep(wait)
            waited += wait

    def hold_off(self, seconds: float) -> None:
        """Let no process send anything for `seconds` (Exotel answered 429)."""
        with transaction.atomic():
            bucket = self._bucket()
            self._refill(bucket)
            # The next token comes `seconds` from now.
            bucket.tokens = min(bucket.tokens, 1 - seconds * self.rate)
            bucket.save(update_fields=["tokens", "refilled_at"])

    def _take(self) -> float:
        """Take a token if there is one (0.0); else the seconds until there is."""
        with transaction.atomic():
            bucket = self._bucket()
            self._refill(bucket)
            if bucket.tokens >= 1 - EPSILON:
                bucket.tokens -= 1
                wait = 0.0
            else:
                wait = max((1 - bucket.tokens) / self.rate, MIN_WAIT)
            bucket.save(update_fields=["tokens", "refilled_at"])
            return wait

    def _bucket(self) -> ApiRateBucket:
        ApiRateBucket.objects.get_or_create(
            name=self.name,
            defaults={"tokens": float(self.burst), "refilled_at": self.clock()},
        )
        return ApiRateBucket.objects.select_for_update().get(name=self.name)

    def _refill(self, bucket: ApiRateBucket) -> None:
        now = self.clock()
        elapsed = max(now - bucket.refilled_at, 0.0)
        bucket.tokens = min(bucket.tokens + elapsed * self.rate, float(self.burst))
        bucket.refilled_at = max(now, bucket.refilled_at)
