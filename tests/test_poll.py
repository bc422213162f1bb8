"""Polling end to end: a real HTTP server on 127.0.0.1, a real migrated SQLite database."""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from sqlalchemy import func, select

from aggregator.config import Config, config_from_dict, load_config
from aggregator.db import Database
from aggregator.db.models import Article, Feed, Run
from aggregator.errors import ParseError
from aggregator.ingest.feeds import add_feed
from aggregator.ingest.fetch import INLINE_PARSES, PollSummary, fetch_feeds
from aggregator.ingest.parse import parse_feed

from .conftest import NOW
from .httpserver import FeedServer

INTRADAY = Path("feeds/news_snapshots/gesab001-headlines/intraday-2021-09-20")


def rss(*items: tuple[str, str], title: str = "Test feed", ttl: int | None = None) -> bytes:
    """A small RSS 2.0 feed of (guid, title) items, each linking to https://example.org/<guid>."""
    body = "".join(
        f"<item><guid>{guid}</guid><title>{t}</title><link>https://example.org/{guid}?utm_source=rss</link>"
        f"<description>About {t}.</description><pubDate>Thu, 26 Nov 2026 10:00:00 GMT</pubDate></item>"
        for guid, t in items
    )
    ttl_tag = f"<ttl>{ttl}</ttl>" if ttl else ""
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://example.org/</link>{ttl_tag}{body}</channel></rss>"
    ).encode()


def make_config(tmp_path: Path, **fetch: Any) -> Config:
    settings: dict[str, Any] = {
        "allowed_networks": ["127.0.0.1/32"],  # the test server, and nothing else private
        "parse_workers": 1,
        "jitter_seconds": 0,
        "interval_minutes": 30,
    }
    settings.update(fetch)
    return config_from_dict(
        {"storage": {"data_dir": str(tmp_path / "data")}, "fetch": settings}, "test", tmp_path
    )


@pytest.fixture
def cfg(tmp_path: Path) -> Config:
    return make_config(tmp_path)


def add(db: Database, *urls: str) -> None:
    with db.session() as s:
        for url in urls:
            add_feed(s, url, now=NOW)


def feed(db: Database, url: str) -> Feed:
    with db.session() as s:
        found = s.scalar(select(Feed).where(Feed.url == url))
        assert found is not None
        return found


def articles(db: Database, url: str | None = None) -> list[Article]:
    with db.session() as s:
        stmt = select(Article).order_by(Article.id)
        if url is not None:
            stmt = stmt.join(Feed).where(Feed.url == url)
        return list(s.scalars(stmt))


def poll(db: Database, config: Config, minutes: float = 0, **kwargs: Any) -> PollSummary:
    return fetch_feeds(db, config, NOW + timedelta(minutes=minutes), rng=random.Random(1), **kwargs)


def test_new_entries_are_stored_normalised(feed_server: FeedServer, db: Database, cfg: Config) -> None:
    url = feed_server.route("/f.xml", rss(("a1", "First"), ("a2", "Second &amp; more")))
    add(db, url)
    summary = poll(db, cfg)
    assert (summary.new, summary.failed) == (2, [])
    a1, a2 = articles(db)
    assert (a1.guid, a1.title, a1.url) == ("a1", "First", "https://example.org/a1?utm_source=rss")
    assert a1.canonical_url == "https://example.org/a1"
    assert a2.title == "Second & more"
    assert a1.clustered_at is None and a1.extract_status is None and a1.fetched_at == NOW
    f = feed(db, url)
    assert (f.title, f.consecutive_errors, f.last_status_code, f.last_success_at) == (
        "Test feed",
        0,
        200,
        NOW,
    )
    assert f.next_fetch_at == NOW + timedelta(minutes=30)


def test_etag_304_keeps_validators_and_parses_nothing(
    feed_server: FeedServer, db: Database, cfg: Config
) -> None:
    url = feed_server.route("/f.xml", rss(("a1", "First")), etag='W/"v1"')
    add(db, url)
    poll(db, cfg)
    assert feed(db, url).etag == 'W/"v1"'
    summary = poll(db, cfg, minutes=31)
    assert summary.count("not_modified") == 1
    assert feed_server.requests[-1].header("if-none-match") == 'W/"v1"'
    f = feed(db, url)
    assert (f.etag, f.last_status_code, f.last_success_at) == ('W/"v1"', 304, NOW + timedelta(minutes=31))
    assert len(articles(db)) == 1


def test_last_modified_is_sent_back_exactly(feed_server: FeedServer, db: Database, cfg: Config) -> None:
    stamp = "Thu, 26 Nov 2026 10:00:00 GMT"
    url = feed_server.route("/f.xml", rss(("a1", "First")), last_modified=stamp)
    add(db, url)
    poll(db, cfg)
    summary = poll(db, cfg, minutes=31)
    assert summary.count("not_modified") == 1
    assert feed_server.requests[-1].header("if-modified-since") == stamp
    assert feed_server.requests[-1].header("if-none-match") is None


def test_same_body_without_validators_is_not_parsed_again(
    feed_server: FeedServer, db: Database, cfg: Config
) -> None:
    url = feed_server.route("/f.xml", rss(("a1", "First")))
    add(db, url)
    poll(db, cfg)
    assert poll(db, cfg, minutes=31).count("unchanged") == 1


def test_only_due_feeds_are_polled_unless_all(feed_server: FeedServer, db: Database, cfg: Config) -> None:
    url = feed_server.route("/f.xml", rss(("a1", "First")))
    add(db, url)
    poll(db, cfg)
    assert poll(db, cfg, minutes=10).outcomes == []
    assert len(poll(db, cfg, minutes=10, all=True).outcomes) == 1
    assert len(poll(db, cfg, minutes=10, feed_url=url).outcomes) == 1
    assert len(feed_server.requests) == 3


def test_edited_entry_updates_the_row(feed_server: FeedServer, db: Database, cfg: Config) -> None:
    url = feed_server.route("/f.xml", rss(("a1", "First"), ("a2", "Second")))
    add(db, url)
    poll(db, cfg)
    with db.session() as s:  # the story engine has seen them
        for a in s.scalars(select(Article)):
            a.clustered_at = NOW
    feed_server.route("/f.xml", rss(("a1", "First, corrected"), ("a2", "Second")))
    summary = poll(db, cfg, minutes=31)
    assert (summary.new, summary.updated) == (0, 1)
    a1, a2 = articles(db)
    assert a1.title == "First, corrected" and a1.clustered_at is None
    assert a2.title == "Second" and a2.clustered_at == NOW


def test_a_fetch_gives_the_feed_its_outlet(feed_server: FeedServer, db: Database, cfg: Config) -> None:
    url = feed_server.route("/f.xml", rss(("a1", "First"), title="Harbour Courier - World"))
    add(db, url)
    assert (feed(db, url).outlet_key, feed(db, url).outlet) == (
        "feed:" + url,
        "127.0.0.1",
    )  # nothing known yet
    poll(db, cfg)
    assert (feed(db, url).outlet_key, feed(db, url).outlet) == ("harbourcourier", "Harbour Courier")


def test_whether_the_feed_dated_an_entry_is_stored(
    feed_server: FeedServer, db: Database, cfg: Config
) -> None:
    undated = rss(("a1", "First"), ("a2", "Second")).replace(
        b"<pubDate>Thu, 26 Nov 2026 10:00:00 GMT</pubDate></item><item><guid>a2", b"</item><item><guid>a2"
    )
    url = feed_server.route("/f.xml", undated)
    add(db, url)
    poll(db, cfg)
    a1, a2 = articles(db)
    assert (a1.dated, a1.published_at) == (False, NOW) and a2.dated
    # An edit that drops the date keeps the stored date, which the feed gave: still dated.
    feed_server.route("/f.xml", undated.replace(b"<pubDate>Thu, 26 Nov 2026 10:00:00 GMT</pubDate>", b""))
    poll(db, cfg, minutes=31)
    a1, a2 = articles(db)
    assert (a1.dated, a1.published_at) == (False, NOW)
    assert (a2.dated, a2.published_at) == (True, datetime(2026, 11, 26, 10, tzinfo=UTC))


def test_an_undated_entry_keeps_its_first_seen_time_when_fetched_again_or_edited(
    feed_server: FeedServer, db: Database, cfg: Config
) -> None:
    """The front page counts an undated item as fresh once, when first seen: later fetches never move it."""
    undated = rss(("u1", "First")).replace(b"<pubDate>Thu, 26 Nov 2026 10:00:00 GMT</pubDate>", b"")
    url = feed_server.route("/f.xml", undated)
    add(db, url)
    poll(db, cfg)
    poll(db, cfg, minutes=31)  # the same entry again
    feed_server.route("/f.xml", undated.replace(b"First", b"First, updated"))
    poll(db, cfg, minutes=62)  # edited by the publisher, still without a date
    (a1,) = articles(db)
    assert (a1.title, a1.dated, a1.published_at) == ("First, updated", False, NOW)


def test_same_url_from_another_feed_is_a_duplicate(
    feed_server: FeedServer, db: Database, cfg: Config
) -> None:
    one = feed_server.route("/one.xml", rss(("story", "A story"), title="One"))
    two = feed_server.route(
        "/two.xml", rss(("other-guid", "A story"), title="Two").replace(b"other-guid?", b"story?")
    )
    add(db, one)
    poll(db, cfg)
    add(db, two)
    summary = poll(db, cfg, minutes=1)
    assert summary.outcomes[0].duplicates == 1
    first, second = articles(db)
    assert second.duplicate_of_id == first.id and second.duplicate_reason == "url"
    assert first.duplicate_of_id is None


def test_permanent_redirect_moves_the_url_only_after_confirmation(
    feed_server: FeedServer, db: Database, cfg: Config
) -> None:
    feed_server.redirect("/old.xml", "/mid.xml", status=301)
    feed_server.redirect("/mid.xml", "/new.xml", status=308)
    target = feed_server.route("/new.xml", rss(("a1", "First")))
    old = feed_server.url("/old.xml")
    add(db, old)
    for i in (1, 2):
        poll(db, cfg, minutes=31 * i, all=True)
        f = feed(db, old)
        assert (f.url, f.redirect_url, f.redirect_count) == (old, target, i)
    poll(db, cfg, minutes=31 * 3, all=True)
    f = feed(db, target)
    assert (f.redirect_url, f.redirect_count) == (None, 0)
    assert len(articles(db)) == 1
    feed_server.clear_log()
    poll(db, cfg, minutes=31 * 4, all=True)
    assert feed_server.paths() == ["/new.xml"]


def test_temporary_redirect_never_moves_the_url(feed_server: FeedServer, db: Database, cfg: Config) -> None:
    feed_server.redirect("/old.xml", "/new.xml", status=302)
    feed_server.route("/new.xml", rss(("a1", "First")))
    old = feed_server.url("/old.xml")
    add(db, old)
    for i in range(4):
        poll(db, cfg, minutes=31 * i, all=True)
    f = feed(db, old)
    assert (f.url, f.redirect_url, f.redirect_count) == (old, None, 0)


def test_redirect_loop_is_recorded_as_an_error(feed_server: FeedServer, db: Database, cfg: Config) -> None:
    feed_server.redirect("/a", "/b")
    feed_server.redirect("/b", "/a")
    url = feed_server.url("/a")
    add(db, url)
    summary = poll(db, cfg)
    assert summary.failed == [(url, f"redirect loop: {feed_server.url('/b')} -> {url}")]
    assert summary.outcomes[0].permanent
    f = feed(db, url)
    assert f.consecutive_errors == 1
    # Asking again in half an hour cannot help: a permanent failure waits the longest backoff at once.
    assert f.next_fetch_at == NOW + timedelta(hours=cfg.fetch.backoff_max_hours)


def test_410_marks_the_feed_gone_and_it_is_not_polled_again(
    feed_server: FeedServer, db: Database, cfg: Config
) -> None:
    url = feed_server.route("/gone.xml", b"", status=410, content_type="text/plain")
    add(db, url)
    summary = poll(db, cfg)
    assert summary.count("gone") == 1 and summary.failed[0][0] == url
    f = feed(db, url)
    assert (f.status, f.next_fetch_at, f.last_status_code) == ("gone", None, 410)
    assert "410 Gone" in (f.last_error or "")
    assert poll(db, cfg, minutes=60, all=True).outcomes == []
    assert len(feed_server.requests) == 1
    # Asked for by URL and answering again, it is polled again.
    feed_server.route("/gone.xml", rss(("a", "A")))
    assert poll(db, cfg, minutes=61, feed_url=url).new == 1
    assert feed(db, url).status == "active"


@pytest.mark.parametrize("as_date", [False, True])
def test_429_retry_after_sets_the_next_attempt(
    feed_server: FeedServer, db: Database, cfg: Config, as_date: bool
) -> None:
    retry = format_datetime(NOW + timedelta(hours=3), usegmt=True) if as_date else "10800"
    url = feed_server.route("/f.xml", b"slow down", status=429, headers={"Retry-After": retry})
    add(db, url)
    summary = poll(db, cfg)
    assert summary.failed == [(url, "HTTP 429 Too Many Requests")]
    f = feed(db, url)
    assert f.next_fetch_at == NOW + timedelta(hours=3)
    assert (f.consecutive_errors, f.last_status_code) == (1, 429)


def test_500_backs_off_exponentially_then_recovers(
    feed_server: FeedServer, db: Database, cfg: Config
) -> None:
    url = feed_server.route("/f.xml", b"oops", status=500, content_type="text/plain")
    add(db, url)
    now = 0.0
    waits = []
    for _ in range(3):
        poll(db, cfg, minutes=now)
        f = feed(db, url)
        assert f.next_fetch_at is not None
        waits.append((f.next_fetch_at - (NOW + timedelta(minutes=now))) / timedelta(minutes=1))
        now = (f.next_fetch_at - NOW) / timedelta(minutes=1)
    assert waits == [30, 60, 120]
    f = feed(db, url)
    assert (f.consecutive_errors, f.last_error, f.status) == (3, "HTTP 500 Internal Server Error", "active")
    feed_server.route("/f.xml", rss(("a1", "First")))
    poll(db, cfg, minutes=now)
    f = feed(db, url)
    assert f.consecutive_errors == 0 and f.last_success_at == NOW + timedelta(minutes=now)


def test_backoff_is_capped(feed_server: FeedServer, db: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path, backoff_max_hours=1.5)
    url = feed_server.route("/f.xml", b"oops", status=503, content_type="text/plain")
    add(db, url)
    for i in range(5):
        poll(db, config, minutes=1000 * i, all=True)
    assert feed(db, url).next_fetch_at == NOW + timedelta(minutes=4000, hours=1.5)


def test_ttl_and_max_age_stretch_the_interval(feed_server: FeedServer, db: Database, cfg: Config) -> None:
    ttl = feed_server.route("/ttl.xml", rss(("a", "A"), ttl=120))
    age = feed_server.route("/age.xml", rss(("b", "B")), headers={"Cache-Control": "public, max-age=5400"})
    add(db, ttl, age)
    poll(db, cfg)
    assert feed(db, ttl).next_fetch_at == NOW + timedelta(minutes=120)
    assert feed(db, age).next_fetch_at == NOW + timedelta(minutes=90)


def test_jitter_comes_from_the_given_random(feed_server: FeedServer, db: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path, jitter_seconds=600)
    url = feed_server.route("/f.xml", rss(("a", "A")))
    add(db, url)
    poll(db, config)
    expected = random.Random(1).uniform(0, 600)
    assert feed(db, url).next_fetch_at == NOW + timedelta(minutes=30, seconds=expected)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><head><title>Home</title></head><body>Welcome</body></html>", "an HTML page"),
        (
            b"<html><head><title>Just a moment...</title></head><body>challenge-platform</body></html>",
            "bot-challenge",
        ),
        (b"", "empty body"),
    ],
)
def test_html_challenge_or_empty_body_is_an_error_with_that_reason(
    feed_server: FeedServer, db: Database, cfg: Config, body: bytes, reason: str
) -> None:
    url = feed_server.route("/f.xml", body, content_type="text/html", etag='"x"')
    add(db, url)
    summary = poll(db, cfg)
    assert reason in summary.failed[0][1]
    f = feed(db, url)
    assert reason in (f.last_error or "") and f.consecutive_errors == 1
    assert f.etag is None  # a later 304 must not hide the problem


def test_one_broken_feed_never_stops_the_rest(feed_server: FeedServer, db: Database, cfg: Config) -> None:
    good = feed_server.route("/good.xml", rss(("a", "A")))
    bad = feed_server.route("/bad.xml", b"<rss version='2.0'><channel><item><title>x", status=500)
    missing = feed_server.url("/missing.xml")
    add(db, bad, good, missing)
    summary = poll(db, cfg)
    assert sorted(summary.failed) == [
        (bad, "HTTP 500 Internal Server Error"),
        (missing, "HTTP 404 Not Found"),
    ]
    assert [a.guid for a in articles(db, good)] == ["a"]
    assert "2 failed" in summary.line() and missing in summary.line()


def test_address_guard_refuses_loopback_and_sends_nothing(
    feed_server: FeedServer, db: Database, tmp_path: Path
) -> None:
    config = make_config(tmp_path, allowed_networks=[])
    url = feed_server.route("/f.xml", rss(("a", "A")))
    add(db, url)
    summary = poll(db, config)
    assert "loopback address" in summary.failed[0][1]
    assert feed_server.requests == []
    assert "loopback" in (feed(db, url).last_error or "")


def test_parsing_in_a_process_pool(feed_server: FeedServer, db: Database, tmp_path: Path) -> None:
    config = make_config(tmp_path, parse_workers=2)
    urls = [feed_server.route(f"/f{i}.xml", rss((f"g{i}", f"T{i}"), (f"h{i}", "U"))) for i in range(12)]
    broken = feed_server.route(
        "/broken.xml", b"<html><body>not a feed</body></html>", content_type="text/html"
    )
    add(db, *urls, broken)
    summary = poll(db, config)
    assert summary.new == 24 and summary.parsed_in_pool == 13 - INLINE_PARSES
    assert summary.failed == [
        (broken, "an HTML page was served instead of a feed (is this the site's address, not its feed?)")
    ]


def test_intraday_snapshots_store_each_distinct_item_once(
    feed_server: FeedServer, db: Database, tmp_path: Path, shared_data: Path
) -> None:
    """13 real polls about six minutes apart: unchanged feeds, changed items, a CloudFront error page."""
    cfg = make_config(tmp_path)
    polls = sorted(p for p in (shared_data / INTRADAY).iterdir() if p.is_dir())
    assert len(polls) == 13
    names = sorted({f.name for p in polls for f in p.glob("*.xml")})
    expected: dict[str, set[str]] = {name: set() for name in names}
    served: dict[str, bytes] = {}
    errors: dict[str, int] = {}
    seen: set[bytes] = set()
    add(db, *(feed_server.url(f"/{name}") for name in names))
    for i, snapshot in enumerate(polls):
        for path in snapshot.glob("*.xml"):  # a feed missing from a snapshot keeps serving its last version
            served[path.name] = path.read_bytes()
            etag = '"' + hashlib.sha1(served[path.name]).hexdigest()[:12] + '"'
            feed_server.route(f"/{path.name}", served[path.name], content_type="application/xml", etag=etag)
        summary = poll(db, cfg, minutes=6 * i, all=True)
        for url, _ in summary.failed:
            errors[url.rsplit("/", 1)[1]] = errors.get(url.rsplit("/", 1)[1], 0) + 1
        for name, body in served.items():
            if body not in seen:
                seen.add(body)
                with contextlib.suppress(ParseError):
                    expected[name] |= {e.guid for e in parse_feed(body, {}, url=name, now=NOW).entries}
    with db.session() as s:
        stored = dict(
            s.execute(select(Feed.url, func.count(Article.id)).outerjoin(Article).group_by(Feed.url)).all()
        )
        pairs = s.execute(select(Article.feed_id, Article.guid)).all()
    assert len(pairs) == len(set(pairs))
    for name in names:
        assert stored[feed_server.url(f"/{name}")] == len(expected[name]), name
    assert sum(stored.values()) > 500
    assert "latimes.xml" in errors  # the CloudFront 403 page saved as the feed
    assert "access-denied" in (feed(db, feed_server.url("/latimes.xml")).last_error or "")


def test_cli_fetch_polls_config_feeds_and_exits_0_when_a_feed_fails(
    feed_server: FeedServer,
    write_config: Callable[..., Path],
    run_cli: Callable[..., Result],
) -> None:
    good = feed_server.route("/good.xml", rss(("a", "A"), ("b", "B")))
    bad = feed_server.route("/bad.xml", b"nope", status=503, content_type="text/plain")
    path = write_config(
        {
            "fetch": {"allowed_networks": ["127.0.0.1/32"], "parse_workers": 1},
            "feeds": [{"url": good}, {"url": bad}],
        }
    )
    assert run_cli(path, "init").exit_code == 0
    result = run_cli(path, "fetch")
    assert result.exit_code == 0, result.output
    line = next(line for line in result.output.splitlines() if line.startswith("fetched 2 feeds"))
    assert "1 parsed" in line and "2 new articles" in line and f"{bad} (HTTP 503 Service Unavailable)" in line
    database = Database(load_config(path).database_url)
    with database.session() as s:  # recorded like any run of the step
        (run,) = s.scalars(select(Run).where(Run.step == "fetch")).all()
        assert run.outcome == "partial" and run.counts is not None and run.counts["failed"] == 1
    database.dispose()
    status = json.loads(run_cli(path, "status", "--json").output)
    states = {f["url"]: (f["state"], f["articles"], f["consecutive_errors"]) for f in status["feeds"]}
    assert states == {good: ("ok", 2, 0), bad: ("error", 0, 1)}
    # Nothing is due now: a second run sends no request.
    before = len(feed_server.requests)
    assert run_cli(path, "fetch").exit_code == 0
    assert len(feed_server.requests) == before
    assert run_cli(path, "fetch", "--feed", good).exit_code == 0
    assert feed_server.paths()[-1] == "/good.xml"


def test_cli_fetch_of_an_unknown_feed_fails(
    write_config: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    path = write_config({})
    run_cli(path, "init")
    result = run_cli(path, "fetch", "--feed", "https://example.org/unknown.xml")
    assert result.exit_code == 1 and "no such feed" in result.output
    runs = json.loads(run_cli(path, "status", "--json").output)["runs"]
    assert [(r["step"], r["outcome"]) for r in runs] == [("fetch", "error")]
    assert "no such feed" in runs[0]["detail"]


def test_odd_numbers_in_headers_never_become_internal_errors(
    feed_server: FeedServer, db: Database, cfg: Config
) -> None:
    """Each header a server controls and we read as a number: an odd value is ignored or capped; the feed's
    own outcome (success, or its HTTP error with backoff) is recorded, never "internal error"."""
    huge = "99999999999999999999"
    busy = feed_server.route("/busy.xml", b"busy", status=503, headers={"Retry-After": huge})
    circled = feed_server.route("/circled.xml", b"slow", status=429, headers={"Retry-After": "①"})
    ok_huge = feed_server.route("/ok.xml", rss(("a", "A")), headers={"Retry-After": huge})
    aged = feed_server.route("/aged.xml", rss(("b", "B")), headers={"Cache-Control": f"max-age={huge}"})
    length = feed_server.route("/length.xml", rss(("c", "C")), headers={"Content-Length": huge})
    add(db, busy, circled, ok_huge, aged, length)
    summary = poll(db, cfg)
    assert all("internal error" not in why for _, why in summary.failed), summary.failed
    assert dict(summary.failed).keys() == {busy, circled, length}
    assert "\n" not in dict(summary.failed)[length]
    cap = timedelta(hours=cfg.fetch.backoff_max_hours)
    assert feed(db, busy).next_fetch_at == NOW + cap  # Retry-After honoured up to the cap
    assert feed(db, circled).next_fetch_at == NOW + timedelta(minutes=30)  # ignored: plain backoff
    assert feed(db, ok_huge).next_fetch_at == NOW + cap
    assert feed(db, aged).next_fetch_at == NOW + cap


def test_feeds_queued_behind_slow_ones_on_their_host_are_not_timed_out(
    feed_server: FeedServer, db: Database, tmp_path: Path
) -> None:
    """Five feeds on one host, one request at a time, each answering in ~0.45 s: the last one waits ~1.8 s
    for its turn. The 1.5 s deadline is for the request, so none fails and none is backed off."""
    config = make_config(tmp_path, per_host_concurrency=1, deadline=1.5, read_timeout=5.0)
    tiny = b'<rss version="2.0"><channel><title>t</title></channel></rss>'
    urls = [feed_server.trickle(f"/slow{i}.xml", tiny, delay=0.0075) for i in range(5)]
    add(db, *urls)
    summary = poll(db, config)
    assert summary.failed == []
    assert all(feed(db, url).consecutive_errors == 0 for url in urls)
