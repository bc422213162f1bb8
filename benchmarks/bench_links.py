"""Cost of update_story_links on a real migrated SQLite database, cold and with cached story profiles.

Usage: python benchmarks/bench_links.py [ARTICLES.jsonl.gz] [--stories 5000] [--batch 20]

Stores the first N Guardian dev articles (../shared/data/eval/related) as one-article stories, compressed
into the last 60 days, with the gold tags as categories on half of them (a tagging outlet and an untagged
one), then times one call for the newest ``batch`` stories with no cached profiles, and a second call for
the next batch, when the other stories' profiles are cached in Story.links_state.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aggregator.config import config_from_dict
from aggregator.db import Article, Database, Feed, Story, StoryArticle, upgrade
from aggregator.evaluation.data import load_articles
from aggregator.ingest.feeds import assign_outlet
from aggregator.stories.links import update_story_links

DEFAULT = (
    Path(__file__).resolve().parent.parent.parent / "shared/data/eval/related/guardian-articles.jsonl.gz"
)
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("articles", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--stories", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
    rows = sorted(load_articles(args.articles)[: args.stories], key=lambda a: a.doc.published or NOW)
    with tempfile.TemporaryDirectory() as tmp:
        config = config_from_dict({"storage": {"data_dir": tmp}}, "bench", Path(tmp))
        db = Database(config.database_url)
        upgrade(db)
        ids = []
        with db.session() as s:
            feeds = [
                Feed(url=f"http://127.0.0.1:9/{n}.xml", title=n, added_at=NOW) for n in ("tagged", "plain")
            ]
            for feed in feeds:
                assign_outlet(feed)
            s.add_all(feeds)
            s.flush()
            span = timedelta(days=60) / max(len(rows), 1)
            for i, a in enumerate(rows):
                when = NOW - timedelta(days=60) + span * i
                feed = feeds[i % 2]
                cats = [t for _, t in a.tags] if feed.title == "tagged" else []
                article = Article(
                    feed_id=feed.id, guid=a.doc.id, url=None, title=a.doc.title, summary=a.doc.summary,
                    content=a.doc.text, categories=cats, published_at=when, fetched_at=when,
                )  # fmt: skip
                s.add(article)
                s.flush()
                story = Story(
                    title=a.doc.title, created_at=when, updated_at=when, first_published_at=when,
                    last_published_at=when, article_count=1, source_count=1,
                )  # fmt: skip
                s.add(story)
                s.flush()
                s.add(StoryArticle(article_id=article.id, story_id=story.id, added_at=when))
                ids.append(story.id)
        for label, batch in (("cold", ids[-args.batch :]), ("cached", ids[-2 * args.batch : -args.batch])):
            with db.session() as s:
                start = time.perf_counter()
                result = update_story_links(s, batch, config, NOW)
                seconds = time.perf_counter() - start
            print(
                f"{label:6} {len(ids)} stories stored, {len(batch)} given ({result.stories} lists written): "
                f"{seconds:.2f} s, {seconds * 1000 / len(batch):.0f} ms per new story"
            )
        db.dispose()


if __name__ == "__main__":
    main()
