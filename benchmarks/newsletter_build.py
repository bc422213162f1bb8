"""How long building one digest takes on a busy database, and how big the message is.

Fills a fresh migrated SQLite file with STORIES stories of ARTICLES articles each (our own synthetic text),
half of them with coverage in the last day, then times the selection query, the rendering and the MIME
composition of one digest, and the whole `run_newsletter` writing an .eml file. Prints the figures.

    .venv/bin/python benchmarks/newsletter_build.py [--stories 5000] [--articles 6]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.config import config_from_dict
from aggregator.db import Database, upgrade
from aggregator.db.models import Article, Feed, Story, StoryArticle
from aggregator.ingest.feeds import assign_outlet
from aggregator.publish.mailer import DirTransport
from aggregator.publish.newsletter import Period, compose_message, plan_digest, render_digest, run_newsletter

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)


def fill(db: Database, stories: int, articles: int) -> None:
    with db.session() as s:
        feeds = [
            Feed(url=f"http://127.0.0.1:9/f{i}.xml", title=f"Outlet {i}", added_at=NOW) for i in range(40)
        ]
        for feed in feeds:
            assign_outlet(feed)
        s.add_all(feeds)
        s.flush()
        for n in range(stories):
            base = NOW - timedelta(hours=(n % 96) + 1)
            story = Story(
                title=f"Story number {n} about the harbour",
                created_at=base,
                updated_at=base,
                first_published_at=base,
                last_published_at=base,
                article_count=articles,
                source_count=articles,
            )
            s.add(story)
            s.flush()
            for k in range(articles):
                when = base + timedelta(minutes=10 * k)
                a = Article(
                    feed_id=feeds[(n + k) % len(feeds)].id,
                    guid=f"s{n}a{k}",
                    url=f"http://127.0.0.1:9/s{n}/a{k}.html",
                    title=f"Report {k} on story {n}",
                    summary="<p>" + "Words of a summary with <b>markup</b> and more. " * 8 + "</p>",
                    published_at=when,
                    fetched_at=when,
                )
                s.add(a)
                s.flush()
                s.add(StoryArticle(article_id=a.id, story_id=story.id, added_at=when))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=5000)
    parser.add_argument("--articles", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = config_from_dict(
            {"storage": {"data_dir": tmp}, "newsletter": {"recipients": ["reader@aggregator.test"]}},
            "bench",
            Path(tmp),
        )
        db = Database(config.database_url)
        upgrade(db)
        t0 = time.perf_counter()
        fill(db, args.stories, args.articles)
        fill_s = time.perf_counter() - t0
        period = Period(NOW - timedelta(hours=24), NOW)
        with db.session() as s:
            t0 = time.perf_counter()
            digest = plan_digest(s, config, period)
            select_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        rendered = render_digest(config, digest)
        render_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        message = compose_message(config, rendered, message_id="<bench@aggregator.test>", date=NOW)
        compose_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        result = run_newsletter(db, config, NOW, DirTransport(Path(tmp) / "out"))
        run_s = time.perf_counter() - t0
        db.dispose()
    print(f"database: {args.stories} stories x {args.articles} articles (filled in {fill_s:.1f} s)")
    print(
        f"stories with news in the period: {len(digest.stories) + digest.more}, listed: {len(digest.stories)}"
    )
    print(f"select (query + pure selection): {select_s * 1000:.1f} ms")
    print(f"render (Jinja2 + css-inline):    {render_s * 1000:.1f} ms")
    print(f"compose (MIME bytes):            {compose_s * 1000:.1f} ms")
    print(f"run_newsletter to an .eml file:  {run_s * 1000:.1f} ms ({result.outcomes[0].state})")
    print(f"message size: {len(message) / 1024:.1f} KiB")


if __name__ == "__main__":
    sys.exit(main())
