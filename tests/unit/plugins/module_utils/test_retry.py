from __future__ import annotations

import pytest
from ansible_collections.ump365.upgrade.plugins.module_utils.errors import (
    AuthenticationError,
    ThrottledError,
    UmpError,
)
from ansible_collections.ump365.upgrade.plugins.module_utils.retry import (
    RetryPolicy,
    call_with_retry,
    parse_retry_after,
)


class FakeClock:
    def __init__(self):
        self.t = 0.0
        self.sleeps: list[float] = []

    def sleep(self, d):
        self.sleeps.append(d)
        self.t += d

    def now(self):
        return self.t


def flaky(failures):
    calls = {"n": 0}

    def fn():
        calls["n"] += 1
        if failures:
            raise failures.pop(0)
        return "ok"

    return fn, calls


def test_retries_then_succeeds_and_reports_attempts():
    clock = FakeClock()
    fn, calls = flaky([ThrottledError("429", details={"status": 429}), ThrottledError("429", details={"status": 429})])
    result, attempts = call_with_retry(
        fn, RetryPolicy(max_attempts=5, base_delay=1, jitter=False), sleep=clock.sleep, clock=clock.now
    )
    assert result == "ok"
    assert calls["n"] == 3
    assert [a["status"] for a in attempts] == [429, 429]
    assert clock.sleeps == [1.0, 2.0]  # exponential without jitter


def test_retry_after_wins_over_backoff_and_is_capped():
    clock = FakeClock()
    fn, _calls = flaky([ThrottledError("slow down", retry_after=7), ThrottledError("slow down", retry_after=500)])
    call_with_retry(fn, RetryPolicy(base_delay=1, max_delay=30, jitter=False), sleep=clock.sleep, clock=clock.now)
    assert clock.sleeps == [7.0, 30.0]


def test_non_retriable_error_is_raised_at_once():
    clock = FakeClock()
    fn, calls = flaky([AuthenticationError("bad secret")])
    with pytest.raises(AuthenticationError) as ei:
        call_with_retry(fn, RetryPolicy(), sleep=clock.sleep, clock=clock.now)
    assert calls["n"] == 1 and clock.sleeps == []
    assert ei.value.attempts == []


def test_gives_up_after_max_attempts_with_history():
    clock = FakeClock()
    fn, calls = flaky([ThrottledError("429")] * 10)
    with pytest.raises(ThrottledError) as ei:
        call_with_retry(
            fn, RetryPolicy(max_attempts=3, base_delay=0.5, jitter=False), sleep=clock.sleep, clock=clock.now
        )
    assert calls["n"] == 3
    assert len(ei.value.attempts) == 2
    assert "after 3 attempts" in str(ei.value)


def test_budget_stops_retrying_before_overspending():
    clock = FakeClock()
    fn, calls = flaky([ThrottledError("429", retry_after=20)] * 10)
    with pytest.raises(ThrottledError) as ei:
        call_with_retry(fn, RetryPolicy(max_attempts=10, max_delay=60, budget=45), sleep=clock.sleep, clock=clock.now)
    assert sum(clock.sleeps) <= 45
    assert calls["n"] == 3
    assert ei.value.details["retry_budget_exhausted"] is True


def test_full_jitter_stays_within_the_exponential_ceiling():
    p = RetryPolicy(base_delay=2, max_delay=10)
    for attempt in range(1, 8):
        ceiling = min(10, 2 * 2 ** (attempt - 1))
        assert p.backoff(attempt, rng=lambda: 0.999999) <= ceiling
        assert p.backoff(attempt, rng=lambda: 0.0) == 0.0


def test_on_retry_callback_sees_each_attempt():
    seen = []
    fn, _calls = flaky([ThrottledError("a"), ThrottledError("b")])
    call_with_retry(fn, RetryPolicy(jitter=False, base_delay=0), on_retry=seen.append, sleep=lambda d: None)
    assert [s["error"] for s in seen] == ["a", "b"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5.0), ("0", 0.0), (" 12 ", 12.0), ("", None), (None, None), ("soon", None), ("-3", 0.0)],
)
def test_parse_retry_after_seconds(value, expected):
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date():
    # Wed, 21 Oct 2015 07:28:00 GMT == 1445412480
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 30) == pytest.approx(30.0)


def test_error_render_names_system_operation_resource_and_fix():
    e = UmpError(
        "snapshot ended Failed",
        system="azure",
        operation="create snapshot",
        resource="snap-1",
        remedy="delete the failed snapshot and run again",
    )
    assert str(e) == (
        "azure create snapshot failed for snap-1: snapshot ended Failed. Fix: delete the failed snapshot and run again"
    )
    assert e.as_dict()["system"] == "azure"


def test_policy_rejects_nonsense():
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
