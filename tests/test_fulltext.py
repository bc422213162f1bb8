"""The full-text step against a real HTTP server on 127.0.0.1 and a real migrated SQLite database."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from aggregator.config import Config, config_from_dict
from aggregator.db import Database
from aggregator.db.models import Article, Feed
from aggregator.evaluation.extraction import scores, shingle_tp_fp_fn
from aggregator.fulltext.extract import (
    ExtractSummary,
    HostPacer,
    decide_articles,
    extraction_status,
    run_extract,
)
from aggregator.fulltext.worker import ExtractPool
from aggregator.run.status import gather_status

from .conftest import NOW
from .factories import make_article, make_feed
from .httpserver import FeedServer, LoggedRequest, Route

WORDS = " ".join(f"word{i}" for i in range(40))
PARAGRAPHS = [
    "The harbour authority said on Tuesday that the new breakwater would be finished before the winter storms.",
    "Engineers have been working in shifts since March, moving more than forty thousand tonnes of rock.",
    "Local fishermen, who lost boats in last year's floods, welcomed the news but asked for a second pier.",
    "The council will publish the full cost of the project at its next meeting, a spokeswoman added.",
    "Residents are invited to an open day at the site on the first Saturday of next month.",
]
ARTICLE_PAGE = (
    "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'><title>Breakwater finished soon</title>"
    "<meta name='author' content='Jane Writer'>"
    "<meta property='og:image' content='/img/breakwater.jpg'>"
    "<meta property='article:published_time' content='2026-11-20T08:00:00Z'>"
    "</head><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>Breakwater</h1>"
    + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    + "</article><footer>Copyright notice of the harbour gazette</footer></body></html>"
).encode()
EMPTY_PAGE = b"<!doctype html><html><head><title>x</title></head><body><div></div></body></html>"


def make_config(tmp_path: Path, **sections: dict[str, Any]) -> Config:
    raw: dict[str, Any] = {
        "storage": {"data_dir": str(tmp_path / "data")},
        "fetch": {"allowed_networks": ["127.0.0.1/32"], "deadline": 5.0},
        "fulltext": {"per_host_delay": 0.0, "retry_minutes": 30.0, "max_attempts": 3},
    }
    for key, values in sections.items():
        raw.setdefault(key, {}).update(values)
    return config_from_dict(raw, "test", tmp_path)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


@pytest.fixture(scope="module")
def pool() -> Iterator[ExtractPool]:
    with ExtractPool(1, timeout=20.0) as p:
        yield p


def add_article(db: Database, url: str, *, mode: str | None = "auto", **fields: Any) -> int:
    with db.session() as s:
        feed = s.scalar(select(Feed).where(Feed.url == "http://feeds.test/rss"))
        if feed is None:
            feed = make_feed(s, "http://feeds.test/rss", now=NOW, fulltext=mode)
        fields.setdefault("summary", "<p>Short teaser.</p>")
        fields.setdefault("published", NOW - timedelta(hours=1))
        return make_article(s, feed, title="A headline", url=url, **fields).id


def article(db: Database, article_id: int) -> Article:
    with db.session() as s:
        row = s.get(Article, article_id)
        assert row is not None
        return row


def run(db: Database, config: Config, pool: ExtractPool, now: datetime = NOW, **kw: Any) -> ExtractSummary:
    return run_extract(db, config, now, pool=pool, **kw)


def page_paths(server: FeedServer) -> list[str]:
    return [p for p in server.paths() if p != "/robots.txt"]


# Success ----------------------------------------------------------------------------------------------------


def test_page_text_and_missing_metadata_are_stored(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    url = feed_server.route("/news/breakwater", ARTICLE_PAGE, content_type="text/html; charset=utf-8")
    # Undated in the feed: the poller stores the fetch time as the publication time.
    article_id = add_article(db, url, published=NOW - timedelta(minutes=5), dated=False)

    summary = run(db, config, pool)

    assert (summary.attempted, summary.done, summary.failed, summary.retry) == (1, 1, 0, 0)
    a = article(db, article_id)
    assert a.extract_status == "done" and a.extract_error is None and a.extract_attempts == 1
    assert a.extracted_text is not None
    for paragraph in PARAGRAPHS:
        assert paragraph in a.extracted_text
    assert "Copyright notice" not in a.extracted_text
    assert a.summary == "<p>Short teaser.</p>" and a.title == "A headline"  # the feed's fields stay
    assert a.author == "Jane Writer"
    assert a.image_url == feed_server.url("/img/breakwater.jpg")
    assert a.language == "en-gb"
    assert (a.published_at, a.dated) == (datetime(2026, 11, 20, tzinfo=UTC), True)  # the page's date
    assert feed_server.paths() == ["/robots.txt", "/news/breakwater"]
    page_request = feed_server.requests[1]
    assert "text/html" in (page_request.header("accept") or "")
    assert (page_request.header("user-agent") or "").startswith("aggregator/")


def test_a_feed_date_is_kept_even_when_it_is_later_than_the_first_fetch(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    # The publisher edited the entry and moved its date past our first fetch: still the feed's date.
    url = feed_server.route("/news/breakwater", ARTICLE_PAGE, content_type="text/html")
    published = NOW - timedelta(minutes=5)
    article_id = add_article(db, url, published=published)
    with db.session() as s:
        s.get(Article, article_id).fetched_at = NOW - timedelta(hours=2)  # type: ignore[union-attr]
    run(db, config, pool)
    a = article(db, article_id)
    assert a.extract_status == "done" and (a.published_at, a.dated) == (published, True)


def test_feed_metadata_is_kept_and_clustered_article_keeps_its_story(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    url = feed_server.route("/news/breakwater", ARTICLE_PAGE, content_type="text/html")
    published = NOW - timedelta(hours=3)
    article_id = add_article(
        db, url, author="Feed Author", image_url="https://img.test/feed.jpg", published=published
    )
    with db.session() as s:
        row = s.get(Article, article_id)
        assert row is not None
        row.fetched_at, row.clustered_at = NOW - timedelta(hours=1), NOW - timedelta(minutes=30)

    run(db, config, pool)

    a = article(db, article_id)
    assert a.extract_status == "done"
    assert (a.author, a.image_url, a.published_at) == ("Feed Author", "https://img.test/feed.jpg", published)
    assert a.clustered_at == NOW - timedelta(minutes=30)  # already in a story: not reshuffled


def test_real_pages_from_the_benchmark(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer, shared_data: Path
) -> None:
    folder = shared_data / "pages" / "article-extraction-benchmark"
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:4]
    ids = {}
    for key in keys:
        body = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        url = feed_server.route(f"/real/{key}", body, content_type="text/html; charset=utf-8")
        ids[key] = add_article(db, url)

    summary = run(db, config, pool)

    assert summary.done == len(keys)
    pairs = []
    for key, article_id in ids.items():
        a = article(db, article_id)
        assert a.extract_status == "done" and a.extracted_text
        pairs.append(shingle_tp_fp_fn(truth[key]["articleBody"], a.extracted_text))
    assert scores(pairs).f1 > 0.8
    assert feed_server.paths().count("/robots.txt") == 1  # once per host per run


# Selection --------------------------------------------------------------------------------------------------


def test_modes_decide_which_articles_need_their_page(db: Database, config: Config) -> None:
    long_text = "<p>" + " ".join(["word"] * 200) + "</p>"
    with db.session() as s:
        auto = make_feed(s, "http://a.test/rss", now=NOW, fulltext="auto")
        always = make_feed(s, "http://b.test/rss", now=NOW, fulltext="always")
        never = make_feed(s, "http://c.test/rss", now=NOW, fulltext="never")
        default = make_feed(s, "http://d.test/rss", now=NOW, fulltext=None)
        published = NOW - timedelta(hours=1)
        rows = {
            "auto short": make_article(s, auto, title="t", published=published, summary=WORDS),
            "auto long": make_article(s, auto, title="t", published=published, content=long_text),
            "always long": make_article(s, always, title="t", published=published, content=long_text),
            "never short": make_article(s, never, title="t", published=published, summary="short"),
            "default short": make_article(s, default, title="t", published=published, summary="short"),
            "default long": make_article(s, default, title="t", published=published, summary=long_text),
        }
        ids = {name: row.id for name, row in rows.items()}
    with db.session() as s:
        assert decide_articles(s, config) == (3, 3)
    status = {name: article(db, i).extract_status for name, i in ids.items()}
    assert status == {
        "auto short": "pending",
        "auto long": "skipped",
        "always long": "pending",
        "never short": "skipped",
        "default short": "pending",  # fulltext.default is auto
        "default long": "skipped",
    }
    assert "200 words" in (article(db, ids["auto long"]).extract_error or "")
    with db.session() as s:
        assert decide_articles(s, config) == (0, 0)  # decided once


def test_default_never_applies_to_feeds_without_a_mode(tmp_path: Path, db: Database) -> None:
    config = make_config(tmp_path, fulltext={"default": False})
    with db.session() as s:
        feed = make_feed(s, "http://d.test/rss", now=NOW, fulltext=None)
        article_id = make_article(s, feed, title="t", published=NOW, summary="short").id
    with db.session() as s:
        decide_articles(s, config)
    assert article(db, article_id).extract_status == "skipped"


# Failures ---------------------------------------------------------------------------------------------------


def test_slow_server_is_cut_at_the_deadline_and_retried_later(
    tmp_path: Path, db: Database, pool: ExtractPool, feed_server: FeedServer
) -> None:
    config = make_config(tmp_path, fetch={"deadline": 0.5})
    url = feed_server.url("/slow")
    with feed_server.lock:
        feed_server.routes["/slow"] = Route(
            200, ARTICLE_PAGE, {"Content-Type": "text/html"}, trickle_delay=0.05
        )
    article_id = add_article(db, url)

    summary = run(db, config, pool)

    assert (summary.done, summary.retry, summary.failed) == (0, 1, 0)
    a = article(db, article_id)
    assert a.extract_status == "pending" and a.extract_attempts == 1
    assert "deadline" in (a.extract_error or "")
    assert a.extract_after == NOW + timedelta(minutes=30)


def test_oversized_page_fails_at_once(
    tmp_path: Path, db: Database, pool: ExtractPool, feed_server: FeedServer
) -> None:
    config = make_config(tmp_path, fetch={"max_body_bytes": 10_000})
    url = feed_server.route("/big", b"<html><body>" + b"<p>text</p>" * 5000, content_type="text/html")
    article_id = add_article(db, url)

    summary = run(db, config, pool)

    assert summary.failed == 1
    a = article(db, article_id)
    assert a.extract_status == "failed" and "cap" in (a.extract_error or "")
    assert a.extracted_text is None


def test_non_html_content_type_is_refused(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    url = feed_server.route("/doc.pdf", b"%PDF-1.4 not a page", content_type="application/pdf")
    article_id = add_article(db, url)

    run(db, config, pool)

    a = article(db, article_id)
    assert a.extract_status == "failed"
    assert "application/pdf" in (a.extract_error or "")


def test_not_found_fails_at_once_and_server_error_is_retried(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    gone = add_article(db, feed_server.url("/missing"))
    broken = add_article(db, feed_server.route("/broken", b"oops", status=503, content_type="text/html"))

    run(db, config, pool)

    assert (article(db, gone).extract_status, article(db, gone).extract_error) == ("failed", "HTTP 404")
    assert (article(db, broken).extract_status, article(db, broken).extract_error) == ("pending", "HTTP 503")


def test_robots_disallow_means_the_page_is_never_requested(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    feed_server.route(
        "/robots.txt",
        b"User-agent: *\nDisallow: /private/\n\nUser-agent: otherbot\nDisallow: /\n",
        content_type="text/plain",
    )
    private = add_article(db, feed_server.route("/private/story", ARTICLE_PAGE, content_type="text/html"))
    public = add_article(db, feed_server.route("/public/story", ARTICLE_PAGE, content_type="text/html"))

    summary = run(db, config, pool)

    assert summary.robots_skipped == 1 and summary.done == 1
    assert "/private/story" not in feed_server.paths()
    assert feed_server.paths().count("/robots.txt") == 1
    a = article(db, private)
    assert a.extract_status == "skipped" and "robots.txt" in (a.extract_error or "")
    assert article(db, public).extract_status == "done"


def test_robots_for_our_user_agent_and_switching_it_off(
    tmp_path: Path, db: Database, pool: ExtractPool, feed_server: FeedServer
) -> None:
    feed_server.route("/robots.txt", b"User-agent: aggregator\nDisallow: /\n", content_type="text/plain")
    article_id = add_article(db, feed_server.route("/story", ARTICLE_PAGE, content_type="text/html"))
    run(db, make_config(tmp_path), pool)
    assert article(db, article_id).extract_status == "skipped"
    assert page_paths(feed_server) == []

    feed_server.clear_log()
    run(db, make_config(tmp_path, fulltext={"respect_robots": False}), pool, article_id=article_id)
    assert article(db, article_id).extract_status == "done"
    assert feed_server.paths() == ["/story"]  # robots.txt not even asked for


def test_unreachable_robots_is_a_failure_and_no_page_is_requested(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    feed_server.route("/robots.txt", b"down", status=500, content_type="text/plain")
    article_id = add_article(db, feed_server.route("/story", ARTICLE_PAGE, content_type="text/html"))

    run(db, config, pool)

    a = article(db, article_id)
    assert a.extract_status == "pending" and a.extract_attempts == 1
    assert "500" in (a.extract_error or "")
    assert page_paths(feed_server) == []


def test_address_guard_refuses_loopback_when_not_allowed(
    tmp_path: Path, db: Database, pool: ExtractPool, feed_server: FeedServer
) -> None:
    config = make_config(tmp_path, fetch={"allowed_networks": []})
    article_id = add_article(db, feed_server.route("/story", ARTICLE_PAGE, content_type="text/html"))

    run(db, config, pool)

    assert feed_server.requests == []  # neither robots.txt nor the page
    a = article(db, article_id)
    assert a.extract_status == "failed"  # a retry cannot change where the host points
    assert "loopback address" in (a.extract_error or "")


def test_extraction_failure_is_retried_with_backoff_then_given_up(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    url = feed_server.route("/empty", EMPTY_PAGE, content_type="text/html")
    article_id = add_article(db, url)

    def attempt(now: datetime) -> tuple[str | None, int, datetime | None]:
        run(db, config, pool, now=now)
        a = article(db, article_id)
        return a.extract_status, a.extract_attempts, a.extract_after

    assert attempt(NOW) == ("pending", 1, NOW + timedelta(minutes=30))
    assert "no main text" in (article(db, article_id).extract_error or "")
    assert attempt(NOW + timedelta(minutes=10)) == ("pending", 1, NOW + timedelta(minutes=30))  # not due
    assert page_paths(feed_server) == ["/empty"]
    later = NOW + timedelta(minutes=31)
    assert attempt(later) == ("pending", 2, later + timedelta(minutes=60))  # the wait doubles
    last = later + timedelta(minutes=61)
    assert attempt(last) == ("failed", 3, last)  # fulltext.max_attempts reached
    assert attempt(last + timedelta(days=7)) == ("failed", 3, last)  # given up: never fetched again
    assert page_paths(feed_server) == ["/empty"] * 3

    with db.session() as s:
        status = gather_status(s, last)
    block = status["extraction"]
    assert (block["failed"], block["pending"], block["done"]) == (1, 0, 0)
    assert block["last_errors"][0]["article_id"] == article_id
    assert "no main text" in block["last_errors"][0]["error"]


def test_a_failure_followed_by_success(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    answers = iter([Route(503, b"busy", {"Content-Type": "text/html"})])

    def page(request: LoggedRequest) -> Route:
        return next(answers, Route(200, ARTICLE_PAGE, {"Content-Type": "text/html"}))

    article_id = add_article(db, feed_server.handler("/flaky", page))
    run(db, config, pool)
    assert article(db, article_id).extract_status == "pending"
    run(db, config, pool, now=NOW + timedelta(hours=1))
    a = article(db, article_id)
    assert (a.extract_status, a.extract_attempts, a.extract_error) == ("done", 2, None)


def test_extraction_time_limit_kills_a_runaway_page(
    db: Database, config: Config, feed_server: FeedServer
) -> None:
    # About two seconds of trafilatura work; the limit is a twentieth of that.
    huge = (
        "<html><body><article>"
        + "".join(
            f"<p>Paragraph {i} has words enough for the extractor to keep it.</p>" for i in range(20000)
        )
        + "</article></body></html>"
    ).encode()
    slow = add_article(db, feed_server.route("/huge", huge, content_type="text/html"))
    with ExtractPool(1, timeout=0.1) as short:
        run(db, config, short)
        assert short.kills == 1
        a = article(db, slow)
        assert a.extract_status == "pending" and "longer than 0.1s" in (a.extract_error or "")
        # The killed worker is replaced: the next page is extracted normally.
        fine = add_article(db, feed_server.route("/fine", ARTICLE_PAGE, content_type="text/html"))
        short.workers[0].timeout = 20.0
        run(db, config, short, article_id=fine)
        assert article(db, fine).extract_status == "done"


def test_limit_and_resumability(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    ids = [
        add_article(db, feed_server.route(f"/s{i}", ARTICLE_PAGE, content_type="text/html")) for i in range(3)
    ]
    first = run(db, config, pool, limit=2)
    assert first.done == 2
    second = run(db, config, pool)
    assert second.done == 1
    third = run(db, config, pool)
    assert third.attempted == 0
    assert all(article(db, i).extract_status == "done" for i in ids)
    assert sorted(page_paths(feed_server)) == ["/s0", "/s1", "/s2"]  # each page fetched once
    with db.session() as s:
        block = extraction_status(s)
    assert (block["done"], block["pending"], block["failed"], block["last_errors"]) == (3, 0, 0, [])


# Politeness -------------------------------------------------------------------------------------------------


def test_pacer_spaces_requests_to_one_host() -> None:
    asyncio.run(_pacer_scenario())


async def _pacer_scenario() -> None:
    clock = [100.0]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock[0] += seconds

    pacer = HostPacer(2.0, 1, clock=lambda: clock[0], sleep=sleep)
    await pacer.wait_turn("http://a")
    await pacer.wait_turn("http://b")  # another host: no wait
    clock[0] += 0.5
    await pacer.wait_turn("http://a")
    assert sleeps == [1.5]
    pacer.set_delay("http://a", 600)  # robots.txt Crawl-delay, capped
    await pacer.wait_turn("http://a")
    await pacer.wait_turn("http://a")
    assert sleeps[-1] == 30.0


def test_an_article_url_that_does_not_parse_fails_alone(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer
) -> None:
    """A pending article whose URL urllib cannot parse (stored before links were checked) fails with the
    reason; the other pages of the run are still fetched."""
    bad_id = add_article(db, "http://[::1/x", extract_status="pending", extract_attempts=0)
    good_id = add_article(db, feed_server.route("/story", ARTICLE_PAGE, content_type="text/html"))
    summary = run(db, config, pool)
    assert (summary.done, summary.failed) == (1, 1)
    bad = article(db, bad_id)
    assert bad.extract_status == "failed" and "cannot be parsed" in (bad.extract_error or "")
    assert article(db, good_id).extract_status == "done"
    assert page_paths(feed_server) == ["/story"]


@pytest.mark.parametrize("delay", ["①", "²", "9" * 400])
def test_an_odd_crawl_delay_does_not_stop_the_step(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer, delay: str
) -> None:
    feed_server.route(
        "/robots.txt", f"User-agent: *\nCrawl-delay: {delay}\n".encode(), content_type="text/plain"
    )
    article_id = add_article(db, feed_server.route("/story", ARTICLE_PAGE, content_type="text/html"))
    summary = run(db, config, pool)
    assert summary.done == 1 and article(db, article_id).extract_status == "done"


@pytest.mark.parametrize("header", ["utf-8", "base64"])
def test_a_wrong_charset_header_falls_back_to_the_pages_own(
    db: Database, config: Config, pool: ExtractPool, feed_server: FeedServer, header: str
) -> None:
    """The server says UTF-8 (or names a codec that is no charset) over a windows-1252 page that says so."""
    page = ARTICLE_PAGE.decode().replace("charset='utf-8'", "charset='windows-1252'")
    page = page.replace("The harbour authority", "Le café du port: the harbour authority")
    url = feed_server.route("/p", page.encode("cp1252"), content_type=f"text/html; charset={header}")
    article_id = add_article(db, url)
    assert run(db, config, pool).done == 1
    text = article(db, article_id).extracted_text or ""
    assert "Le café du port" in text and "\ufffd" not in text


@pytest.mark.parametrize("problem", ["oversized", "redirect loop", "too many redirects", "unreachable"])
def test_a_robots_txt_that_cannot_be_read_is_unknown_and_retried(
    tmp_path: Path, db: Database, pool: ExtractPool, feed_server: FeedServer, problem: str
) -> None:
    """Whatever keeps robots.txt from being read, its rules are unknown for this run: the host's pages wait
    and are retried later, like those of an unreachable host, never failed for good."""
    config = make_config(tmp_path, fetch={"max_body_bytes": 100_000, "max_redirects": 2})
    if problem == "oversized":
        feed_server.route("/robots.txt", b"# " + b"x" * 200_000 + b"\n", content_type="text/plain")
    elif problem == "redirect loop":
        feed_server.redirect("/robots.txt", "/robots2.txt")
        feed_server.redirect("/robots2.txt", "/robots.txt")
    elif problem == "too many redirects":
        for i in range(4):
            feed_server.redirect("/robots.txt" if i == 0 else f"/r{i}", f"/r{i + 1}")
    else:
        feed_server.route("/robots.txt", b"down", status=503, content_type="text/plain")
    article_id = add_article(db, feed_server.route("/story", ARTICLE_PAGE, content_type="text/html"))

    summary = run(db, config, pool)

    a = article(db, article_id)
    assert (a.extract_status, a.extract_attempts, summary.retry) == ("pending", 1, 1), a.extract_error
    assert "robots.txt" in (a.extract_error or "")
    assert "/story" not in feed_server.paths()
