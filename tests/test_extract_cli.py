"""`aggregator extract` and `aggregator status` end to end: real config file, database and local server."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from click.testing import Result
from sqlalchemy import select

from aggregator.config import load_config
from aggregator.db import Database
from aggregator.db.models import Article, Feed, Run

from .conftest import NOW
from .factories import make_article, make_feed
from .httpserver import FeedServer
from .test_fulltext import ARTICLE_PAGE, PARAGRAPHS

RunCli = Callable[..., Result]


def test_extract_command_and_status(
    write_config: Callable[..., Path], run_cli: RunCli, feed_server: FeedServer
) -> None:
    path = write_config(
        {"fetch": {"allowed_networks": ["127.0.0.1/32"]}, "fulltext": {"per_host_delay": 0.0}}
    )
    assert run_cli(path, "init").exit_code == 0
    db = Database(load_config(path).database_url)
    good = feed_server.route("/news/1", ARTICLE_PAGE, content_type="text/html")
    with db.session() as s:
        feed = make_feed(s, "http://feeds.test/rss", now=NOW, fulltext="auto")
        ok_id = make_article(s, feed, title="t", url=good, published=NOW - timedelta(hours=1)).id
        bad_id = make_article(
            s, feed, title="t", url=feed_server.url("/gone"), published=NOW - timedelta(hours=1)
        ).id

    result = run_cli(path, "extract")

    assert result.exit_code == 0, result.output
    assert "2 pages tried, 1 done, 0 to retry, 1 failed" in result.output
    assert f"article {bad_id}: HTTP 404" in result.output
    with db.session() as s:
        text = s.scalar(select(Article.extracted_text).where(Article.id == ok_id))
        run = s.scalar(select(Run).where(Run.step == "extract"))
        assert run is not None and run.outcome == "partial" and run.counts["done"] == 1
    assert text is not None and PARAGRAPHS[0] in text

    status = json.loads(run_cli(path, "status", "--json").output)["extraction"]
    assert (status["done"], status["failed"], status["pending"]) == (1, 1, 0)
    assert status["last_errors"][0]["error"] == "HTTP 404"
    human = run_cli(path, "status").output
    assert "Full text: 1 done, 0 pending (0 after a failure), 1 failed, 0 skipped" in human

    # --article fetches one article again, whatever its state; --limit bounds a run.
    feed_server.clear_log()
    again = run_cli(path, "extract", "--article", str(ok_id), "--limit", "5")
    assert "1 pages tried, 1 done" in again.output
    assert [p for p in feed_server.paths() if p != "/robots.txt"] == ["/news/1"]
    missing = run_cli(path, "extract", "--article", "999")
    assert missing.exit_code == 1 and "no article with id 999" in missing.output
    db.dispose()


def test_feeds_add_takes_the_three_fulltext_modes(write_config: Callable[..., Path], run_cli: RunCli) -> None:
    path = write_config()
    run_cli(path, "init")
    run_cli(path, "feeds", "add", "https://a.example/rss", "--fulltext")
    run_cli(path, "feeds", "add", "https://b.example/rss", "--no-fulltext")
    run_cli(path, "feeds", "add", "https://c.example/rss", "--fulltext-auto")
    run_cli(path, "feeds", "add", "https://d.example/rss")
    both = run_cli(path, "feeds", "add", "https://e.example/rss", "--fulltext", "--fulltext-auto")
    assert both.exit_code != 0
    db = Database(load_config(path).database_url)
    with db.session() as s:
        modes = dict((url, mode) for url, mode in s.execute(select(Feed.url, Feed.fulltext)))
    db.dispose()
    assert modes == {
        "https://a.example/rss": "always",
        "https://b.example/rss": "never",
        "https://c.example/rss": "auto",
        "https://d.example/rss": None,
    }


def test_fetch_then_extract_end_to_end(
    write_config: Callable[..., Path], run_cli: RunCli, feed_server: FeedServer
) -> None:
    """A summary-only feed on the local server: `fetch` stores teasers, `extract` adds the full text."""
    short_url = feed_server.route("/news/short", ARTICLE_PAGE, content_type="text/html")
    long_body = " ".join(["word"] * 300)
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Gazette</title><link>http://x/</link>'
        f"<item><title>Breakwater</title><link>{short_url}</link><guid>a1</guid>"
        "<description>Teaser only.</description><pubDate>Fri, 27 Nov 2026 10:00:00 GMT</pubDate></item>"
        f"<item><title>Long</title><link>{feed_server.url('/news/long')}</link><guid>a2</guid>"
        f"<description>{long_body}</description><pubDate>Fri, 27 Nov 2026 09:00:00 GMT</pubDate></item>"
        "</channel></rss>"
    ).encode()
    feed_url = feed_server.route("/rss", rss, content_type="application/rss+xml")
    path = write_config(
        {
            "fetch": {"allowed_networks": ["127.0.0.1/32"]},
            "fulltext": {"per_host_delay": 0.0},
            "feeds": [{"url": feed_url, "fulltext": "auto"}],
        }
    )
    assert run_cli(path, "init").exit_code == 0
    assert run_cli(path, "fetch", "--all").exit_code == 0
    result = run_cli(path, "extract")
    assert "1 pages tried, 1 done" in result.output, result.output
    assert "1 new articles queued, 1 need no page" in result.output
    db = Database(load_config(path).database_url)
    with db.session() as s:
        rows = {a.guid: a for a in s.scalars(select(Article))}
    db.dispose()
    assert rows["a1"].extract_status == "done" and PARAGRAPHS[1] in (rows["a1"].extracted_text or "")
    assert rows["a1"].summary == "Teaser only."
    assert rows["a2"].extract_status == "skipped" and rows["a2"].extracted_text is None
    assert "/news/long" not in feed_server.paths()
