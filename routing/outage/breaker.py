"""Remember, per process, that the database is unreachable (a circuit breaker).

Without it every request during an outage pays its own wait for the dead server
(hundreds of milliseconds each) and a sync worker falls behind Exotel's traffic.
With it, the first request that finds the database gone opens the breaker;
while it is open, requests are answered from the last-known list at once,
without touching the database. The process's database monitor
(`routing.outage.deadline`) probes the server in the background, one probe at a time;
when the server answers, one request at a time is let through as a trial, and
the first trial that uses the database without failing closes the breaker.

States: closed (normal), open (outage remembered), probed (the server answered
a probe: the next request is the trial), trial (a trial request is running).
"""

import threading
import time
from collections.abc import Callable

CLOSED = "closed"
OPEN = "open"
PROBED = "probed"
TRIAL = "trial"


class CircuitBreaker:
    """The outage memory of one process; every method is thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self._lock = threading.Lock()
        self._trial_owner: int | None = None
        self._listeners: list[Callable[[str], None]] = []
        self.state = CLOSED
        self.reason = ""
        self.opened_at: float | None = None
        self.last_probe_at: float | None = None

    def allow(self) -> bool:
        """Return whether a request may use the database now.

        Closed: yes. Probed: yes for the one request that becomes the trial.
        Open, or a trial already running: no.
        """
        if self.state == CLOSED:  # the common case, without the lock
            return True
        with self._lock:
            if self.state == CLOSED:
                return True
            if self.state == PROBED:
                self.state = TRIAL
                self._trial_owner = threading.get_ident()
                return True
            return False

    def trip(self, reason: str) -> None:
        """Open the breaker: the database was found unreachable."""
        with self._lock:
            was = self.state
            self.state = OPEN
            self.reason = reason
            self._trial_owner = None
            if was == CLOSED:
                self.opened_at = self._clock()
        if was == CLOSED:
            self._notify(OPEN)

    def succeeded(self) -> None:
        """Close the breaker if this thread's trial used the database and lived."""
        with self._lock:
            if self.state != TRIAL or self._trial_owner != threading.get_ident():
                return
            self.state = CLOSED
            self.reason = ""
            self.opened_at = None
            self._trial_owner = None
        self._notify(CLOSED)

    def release(self) -> None:
        """End this thread's trial without a verdict (it never used the database)."""
        with self._lock:
            if self.state == TRIAL and self._trial_owner == threading.get_ident():
                self.state = PROBED
                self._trial_owner = None

    def probe_due(self, interval: float) -> bool:
        """Return whether the breaker is open and its last probe is `interval` old."""
        if self.state != OPEN:
            return False
        last = self.last_probe_at
        return last is None or self._clock() - last >= interval

    def probe_started(self) -> None:
        self.last_probe_at = self._clock()

    def probe_answered(self) -> None:
        """The server answered a probe: let the next request try it."""
        with self._lock:
            if self.state == OPEN:
                self.state = PROBED

    def seconds_to_probe(self, interval: float) -> float | None:
        """Return how long until the next probe is due; None when closed."""
        if self.state != OPEN:
            return None
        last = self.last_probe_at
        if last is None:
            return 0.0
        return max(0.0, last + interval - self._clock())

    def reset(self) -> None:
        """Forget any outage (a test's fresh start)."""
        with self._lock:
            was = self.state
            self.state = CLOSED
            self.reason = ""
            self.opened_at = self.last_probe_at = self._trial_owner = None
        if was != CLOSED:
            self._notify(CLOSED)

    def on_change(self, listener: Callable[[str], None]) -> None:
        """Call `listener(state)` when the breaker opens or closes."""
        self._listeners.append(listener)

    def _notify(self, state: str) -> None:
        for listener in list(self._listeners):
            listener(state)


# The process's breaker; a forked worker starts with the state it was forked in,
# which is closed (the master serves no request).
breaker = CircuitBreaker()
