"""Pure scheduling decisions: when to poll a feed next, after a success or an error.

No clock and no randomness inside: ``now`` and the jitter (already drawn) are passed in.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# Delta-seconds are ASCII digits (RFC 9110 1*DIGIT): not str.isdigit(), which also takes "①" and "²".
_DELTA_SECONDS = re.compile(r"[0-9]+")
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?([0-9]+)", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|,)\s*no-(?:store|cache)\b", re.IGNORECASE)
MAX_HEADER_DELAY = timedelta(days=3650)  # a longer delay from a header is this (the schedule caps far lower)
_MAX_SECONDS = int(MAX_HEADER_DELAY.total_seconds())


def _delta_seconds(digits: str) -> timedelta:
    """ASCII digits as a delay of at most MAX_HEADER_DELAY: "99999999999999999999" is no overflow."""
    if len(digits) > len(str(_MAX_SECONDS)):
        return MAX_HEADER_DELAY
    return timedelta(seconds=min(int(digits), _MAX_SECONDS))


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """Retry-After as a delay: delta-seconds or an HTTP-date (RFC 9110); None when absent or unreadable.

    A delay is at most MAX_HEADER_DELAY, whatever the header says."""
    if not value:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return _delta_seconds(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" dates come back naive: they are UTC
        from datetime import UTC

        when = when.replace(tzinfo=UTC)
    return min(max(when - now, timedelta(0)), MAX_HEADER_DELAY)


def parse_max_age(cache_control: str | None) -> timedelta | None:
    """Cache-Control max-age as a delay (s-maxage is for shared caches), at most MAX_HEADER_DELAY; None when
    absent or no-store/no-cache."""
    if not cache_control or _NO_STORE.search(cache_control):
        return None
    found = [_delta_seconds(m) for m in _MAX_AGE.findall(cache_control)]
    return max(found) if found else None


def backoff_delay(consecutive_errors: int, *, interval: timedelta, cap: timedelta) -> timedelta:
    """interval, 2x, 4x, ... for the 1st, 2nd, 3rd error in a row, never more than ``cap``."""
    if consecutive_errors <= 0:
        return interval
    exponent = min(consecutive_errors - 1, 32)  # 2**32 intervals exceed any sensible cap
    return min(interval * (1 << exponent), cap)


def next_fetch_after_success(
    now: datetime,
    *,
    interval: timedelta,
    ttl: timedelta | None = None,
    max_age: timedelta | None = None,
    retry_after: timedelta | None = None,
    jitter: timedelta = timedelta(0),
    cap: timedelta,
) -> datetime:
    """now + max(interval, the feed's <ttl>, max-age, Retry-After), at most ``cap``, plus jitter."""
    wait = max(d for d in (interval, ttl, max_age, retry_after) if d is not None)
    return now + min(wait, max(cap, interval)) + jitter


def next_fetch_after_error(
    now: datetime,
    *,
    consecutive_errors: int,
    interval: timedelta,
    cap: timedelta,
    retry_after: timedelta | None = None,
    jitter: timedelta = timedelta(0),
    permanent: bool = False,
) -> datetime:
    """Exponential backoff (``consecutive_errors`` counts this error too), or Retry-After when it is longer.

    A ``permanent`` failure (asking again soon cannot help: a body over the size cap, a redirect loop, an
    address the guard refuses) waits the longest backoff, ``cap``, at once.
    """
    longest = max(cap, interval)
    wait = longest if permanent else backoff_delay(consecutive_errors, interval=interval, cap=cap)
    if retry_after is not None:
        wait = max(wait, min(retry_after, max(cap, interval)))
    return now + wait + jitter
