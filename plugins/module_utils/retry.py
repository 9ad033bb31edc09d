# -*- coding: utf-8 -*-
# Copyright: ump365.upgrade developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retries written once: exponential backoff with full jitter, honouring Retry-After, within a budget.

Every client wraps its calls in :func:`call_with_retry`; what counts as retriable is the error's
``retriable`` flag (see errors.py), and the server's ``Retry-After`` (seconds or an HTTP date) wins
over our own backoff, capped by ``max_delay``. The attempts are recorded on the final error and
returned for reporting, so a run can say "succeeded after 2 retries (429, 409)".
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import random
import time
from email.utils import parsedate_tz, mktime_tz

from ansible_collections.ump365.upgrade.plugins.module_utils.errors import UmpError


def parse_retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent/bad."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = parsedate_tz(value)
        if parsed is None:
            return None
        seconds = mktime_tz(parsed) - (time.time() if now is None else now)
    return max(0.0, seconds)


class RetryPolicy:
    """How hard to try. ``budget`` caps the total seconds spent waiting between attempts."""

    def __init__(self, max_attempts=5, base_delay=1.0, max_delay=30.0, budget=300.0, jitter=True):
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1, got %r" % (max_attempts,))
        self.max_attempts = int(max_attempts)
        self.base_delay = float(base_delay)
        self.max_delay = float(max_delay)
        self.budget = float(budget)
        self.jitter = jitter

    def backoff(self, attempt, rng=random.random):
        """Delay before retry number ``attempt`` (1-based): full jitter over base * 2**(attempt-1)."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return ceiling * rng() if self.jitter else ceiling

    def delay(self, attempt, retry_after=None, rng=random.random):
        if retry_after is not None:
            return min(self.max_delay, max(0.0, float(retry_after)))
        return self.backoff(attempt, rng)


def call_with_retry(fn, policy=None, on_retry=None, sleep=time.sleep, clock=time.monotonic, rng=random.random):
    """Call ``fn()`` until it returns, a non-retriable error is raised, or attempts/budget run out.

    Returns ``(result, attempts)`` where ``attempts`` is a list of dicts describing each failed try
    (``attempt``, ``error``, ``delay``). ``on_retry(attempt_dict)`` is called before each wait so a
    caller can show progress. The last error is re-raised with ``.attempts`` filled in.
    """
    policy = policy or RetryPolicy()
    attempts = []
    waited = 0.0
    start = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn(), attempts
        except UmpError as err:
            if not err.retriable or attempt >= policy.max_attempts:
                err.attempts = attempts
                raise
            delay = policy.delay(attempt, err.retry_after, rng)
            if waited + delay > policy.budget:
                err.attempts = attempts
                err.details.setdefault("retry_budget_exhausted", True)
                err.details.setdefault("elapsed_seconds", round(clock() - start, 3))
                raise
            info = {
                "attempt": attempt,
                "error": err.message,
                "type": type(err).__name__,
                "status": err.details.get("status"),
                "code": err.details.get("code"),
                "delay": round(delay, 3),
            }
            attempts.append(info)
            if on_retry is not None:
                on_retry(info)
            sleep(delay)
            waited += delay
