"""The circuit breaker remembers an outage and lets one trial at a time find its end."""

import threading

import pytest

from routing.outage.breaker import CLOSED, OPEN, PROBED, TRIAL, CircuitBreaker


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def breaker(clock):
    return CircuitBreaker(clock=clock)


def in_other_thread(function):
    result = []
    thread = threading.Thread(target=lambda: result.append(function()))
    thread.start()
    thread.join()
    return result[0]


def test_closed_breaker_lets_every_request_through(breaker):
    assert all(breaker.allow() for _ in range(3))
    assert breaker.state == CLOSED


def test_open_breaker_answers_without_the_database(breaker):
    breaker.trip("refused")

    assert breaker.allow() is False
    assert in_other_thread(breaker.allow) is False
    assert breaker.state == OPEN and breaker.reason == "refused"


def test_probe_is_due_at_once_then_after_each_interval(breaker, clock):
    assert breaker.probe_due(0.25) is False  # closed: nothing to probe
    breaker.trip("refused")
    assert breaker.probe_due(0.25) is True
    breaker.probe_started()
    assert breaker.probe_due(0.25) is False
    assert breaker.seconds_to_probe(0.25) == pytest.approx(0.25)
    clock.now += 0.3
    assert breaker.probe_due(0.25) is True


def test_after_a_probe_answers_one_trial_at_a_time(breaker):
    breaker.trip("refused")
    breaker.probe_answered()
    assert breaker.state == PROBED

    assert breaker.allow() is True  # this thread is the trial
    assert breaker.state == TRIAL
    assert in_other_thread(breaker.allow) is False  # the others still wait


def test_a_trial_that_used_the_database_closes_the_breaker(breaker):
    changes = []
    breaker.on_change(changes.append)
    breaker.trip("refused")
    breaker.probe_answered()
    breaker.allow()

    in_other_thread(breaker.succeeded)  # not the trial: changes nothing
    assert breaker.state == TRIAL
    breaker.succeeded()

    assert breaker.state == CLOSED
    assert changes == [OPEN, CLOSED]


def test_a_failed_trial_opens_it_again(breaker):
    breaker.trip("refused")
    breaker.probe_answered()
    breaker.allow()

    breaker.trip("the database system is starting up")

    assert breaker.state == OPEN
    assert breaker.allow() is False


def test_a_trial_without_a_verdict_hands_the_turn_on(breaker):
    breaker.trip("refused")
    breaker.probe_answered()
    breaker.allow()

    breaker.release()

    assert breaker.state == PROBED
    assert in_other_thread(breaker.allow) is True


def test_opened_at_is_the_start_of_the_outage(breaker, clock):
    breaker.trip("refused")
    clock.now += 5
    breaker.trip("still refused")

    assert breaker.opened_at == 100.0
