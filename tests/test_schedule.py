"""Pure scheduling decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from aggregator.ingest.schedule import (
    backoff_delay,
    next_fetch_after_error,
    next_fetch_after_success,
    parse_max_age,
    parse_retry_after,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
CAP = timedelta(hours=24)


def test_retry_after_in_seconds_and_as_http_date() -> None:
    assert parse_retry_after("120", NOW) == timedelta(seconds=120)
    assert parse_retry_after("Fri, 27 Nov 2026 14:30:00 GMT", NOW) == timedelta(hours=2, minutes=30)
    assert parse_retry_after("Fri, 27 Nov 2026 11:00:00 GMT", NOW) == timedelta(0)  # in the past
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=600", 600),
        ("public, max-age=300, s-maxage=900", 300),
        ('max-age="60"', 60),
        ("no-cache, max-age=600", None),
        ("private", None),
        (None, None),
    ],
)
def test_max_age(header: str | None, expected: int | None) -> None:
    assert parse_max_age(header) == (timedelta(seconds=expected) if expected is not None else None)


def test_success_waits_the_longest_of_interval_ttl_max_age_and_retry_after() -> None:
    base = {"interval": 30 * MIN, "cap": CAP}
    assert next_fetch_after_success(NOW, **base) == NOW + 30 * MIN
    assert next_fetch_after_success(NOW, ttl=60 * MIN, **base) == NOW + 60 * MIN
    assert next_fetch_after_success(NOW, ttl=5 * MIN, max_age=45 * MIN, **base) == NOW + 45 * MIN
    assert next_fetch_after_success(NOW, retry_after=90 * MIN, **base) == NOW + 90 * MIN
    assert next_fetch_after_success(NOW, jitter=timedelta(seconds=17), **base) == NOW + 30 * MIN + timedelta(
        seconds=17
    )
    # A week-long max-age is held to the cap.
    assert next_fetch_after_success(NOW, max_age=timedelta(days=7), **base) == NOW + CAP


def test_errors_back_off_exponentially_up_to_the_cap() -> None:
    delays = [backoff_delay(n, interval=30 * MIN, cap=4 * 60 * MIN) / MIN for n in range(1, 8)]
    assert delays == [30, 60, 120, 240, 240, 240, 240]
    assert backoff_delay(10_000, interval=30 * MIN, cap=CAP) == CAP


def test_error_honours_a_longer_retry_after() -> None:
    at = next_fetch_after_error(
        NOW, consecutive_errors=1, interval=30 * MIN, cap=CAP, retry_after=3 * 60 * MIN
    )
    assert at == NOW + 3 * 60 * MIN
    short = next_fetch_after_error(NOW, consecutive_errors=3, interval=30 * MIN, cap=CAP, retry_after=MIN)
    assert short == NOW + 120 * MIN


def test_a_permanent_error_waits_the_longest_backoff_at_once() -> None:
    first = next_fetch_after_error(NOW, consecutive_errors=1, interval=30 * MIN, cap=CAP, permanent=True)
    assert first == NOW + CAP
    assert next_fetch_after_error(NOW, consecutive_errors=1, interval=30 * MIN, cap=CAP) == NOW + 30 * MIN


@pytest.mark.parametrize(
    "value",
    ["99999999999999999999", "9" * 5000, "  99999999999999999999 "],
)
def test_a_huge_retry_after_is_capped_not_an_overflow(value: str) -> None:
    delay = parse_retry_after(value, NOW)
    assert delay is not None and delay >= timedelta(days=365)
    assert (
        next_fetch_after_error(NOW, consecutive_errors=1, interval=30 * MIN, cap=CAP, retry_after=delay)
        == NOW + CAP
    )


@pytest.mark.parametrize("value", ["①", "²", "５", "١٢٠", "1²", "+120", "-1", "1_000", "12.5", "0x10"])
def test_retry_after_is_ascii_digits_or_a_date(value: str) -> None:
    assert parse_retry_after(value, NOW) is None  # RFC 9110 delta-seconds = 1*DIGIT


@pytest.mark.parametrize(
    "value",
    ["Fri, 31 Dec 9999 23:59:59 -2359", "Mon, 01 Jan 0001 00:00:00 +2359", "Mon, 01 Jan 0001 00:00:00 -2359"],
)
def test_retry_after_dates_at_the_ends_of_the_calendar(value: str) -> None:
    delay = parse_retry_after(value, NOW)
    assert delay is None or delay >= timedelta(0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("max-age=99999999999999999999", timedelta(days=3650)),
        ("max-age=" + "9" * 5000, timedelta(days=3650)),
        ("max-age=٣٠٠", None),  # Arabic-Indic digits: not delta-seconds
        ("max-age=①", None),
        ("max-age=３００", None),
    ],
)
def test_max_age_is_ascii_digits_and_capped(header: str, expected: timedelta | None) -> None:
    assert parse_max_age(header) == expected
