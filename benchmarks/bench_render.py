"""Static site render time: a full render of 1k and 10k stories, then the incremental no-op and one-story change.

Synthesises a migrated SQLite database in a temporary directory (20 outlets, 3 articles per story on average,
one syndicated copy in five, related stories and topics), then times `render_site`. Prints figures.

    .venv/bin/python -m benchmarks.bench_render            # 1k and 10k stories
    .venv/bin/python -m benchmarks.bench_render 2000       # other sizes
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from aggregator.config import config_from_dict
from aggregator.db import Database, upgrade
from aggregator.db.models import Article, Feed, Story, StoryArticle, StoryRelation, StoryTopic, Topic
from aggregator.publish.render import render_site

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
WORDS = [
    "flood",
    "council",
    "minister",
    "election",
    "storm",
    "market",
    "court",
    "strike",
    "vaccine",
    "rail",
    "border",
    "summit",
    "energy",
    "wildfire",
    "budget",
    "protest",
    "trial",
    "museum",
    "orchestra",
    "harbour",
    "drought",
    "bridge",
    "hospital",
    "school",
    "treaty",
    "climate",
    "tariff",
]


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def fill(db: Database, stories: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    span = timedelta(days=max(7, stories // 150))  # about 150 stories a day
    with db.session() as s:
        s.execute(
            insert(Feed),
            [
                {"id": i, "url": f"http://127.0.0.1:9/feed{i}.xml", "title": f"Outlet {i}", "origin": "cli",
                 "status": "active", "added_at": NOW - span, "last_success_at": NOW, "next_fetch_at": NOW,
                 "consecutive_errors": 0, "redirect_count": 0, "outlet_key": f"outlet{i}", "outlet": f"Outlet {i}"}
                for i in range(1, 21)
            ],
        )  # fmt: skip
        s.execute(
            insert(Topic),
            [{"id": i, "key": f"topic{i}", "label": f"Topic {i}", "kind": "subject"} for i in range(1, 201)],
        )
        articles, story_rows, members, relations, topics = [], [], [], [], []
        article_id = 0
        for sid in range(1, stories + 1):
            start = NOW - span * rng.random()
            n = rng.choice((1, 1, 2, 3, 4, 6))
            times = sorted(start + timedelta(minutes=rng.randint(0, 600)) for _ in range(n))
            first_id = article_id + 1
            feeds = set()
            for k, t in enumerate(times):
                article_id += 1
                feed = rng.randint(1, 20)
                copy = k > 0 and rng.random() < 0.2
                if not copy:
                    feeds.add(feed)
                articles.append(
                    {"id": article_id, "feed_id": feed, "guid": f"g{article_id}", "url": f"http://127.0.0.1:9/a/{article_id}",
                     "title": sentence(rng, 8), "summary": f"<p>{sentence(rng, 25)} {sentence(rng, 15)}</p>",
                     "content": "", "categories": [], "published_at": min(t, NOW), "fetched_at": min(t, NOW),
                     "duplicate_of_id": first_id if copy else None, "extract_attempts": 0}
                )  # fmt: skip
                members.append({"article_id": article_id, "story_id": sid, "added_at": t, "similarity": 1.0})
            story_rows.append(
                {"id": sid, "title": sentence(rng, 9)[:-1], "created_at": times[0], "updated_at": times[-1],
                 "first_published_at": min(times[0], NOW), "last_published_at": min(times[-1], NOW),
                 "article_count": n, "source_count": len(feeds)}
            )  # fmt: skip
            for rank, other in enumerate(rng.sample(range(1, stories + 1), min(5, stories)), 1):
                if other != sid:
                    relations.append({"story_id": sid, "related_id": other, "rank": rank, "score": 1 / rank})
            for rank, topic in enumerate(rng.sample(range(1, 201), 3), 1):
                topics.append({"story_id": sid, "topic_id": topic, "rank": rank, "score": 1 / rank})
        for table, rows in ((Story, story_rows), (Article, articles), (StoryArticle, members),
                            (StoryRelation, relations), (StoryTopic, topics)):  # fmt: skip
            for i in range(0, len(rows), 5000):
                s.execute(insert(table), rows[i : i + 5000])


def bench(stories: int) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        root = Path(tmp)
        config = config_from_dict({"storage": {"data_dir": str(root / "data")}}, "bench", root)
        db = Database(config.database_url)
        upgrade(db)
        fill(db, stories)
        out = root / "site"

        t0 = time.perf_counter()
        full = render_site(db, config, NOW, out)
        t1 = time.perf_counter()
        noop = render_site(db, config, NOW, out)
        t2 = time.perf_counter()
        with db.session() as s:
            story = s.get(Story, 1)
            assert story is not None
            story.title = "A changed headline"
        change = render_site(db, config, NOW, out)
        t3 = time.perf_counter()
        db.dispose()
        print(
            f"{stories:>6} stories: full render {t1 - t0:6.2f} s ({full.pages} files, {full.written} written) | "
            f"no-op {t2 - t1:5.2f} s ({noop.written} written) | one story changed {t3 - t2:5.2f} s "
            f"({change.written} written, {change.unchanged} kept)"
        )


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1000, 10000]
    for n in sizes:
        bench(n)


if __name__ == "__main__":
    main(sys.argv[1:])
