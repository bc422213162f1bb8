"""Removing a feed: the stories that held its articles are recounted or retired, and their pages still answer.

Runs the real commands on the demo corpus served from 127.0.0.1: add the feeds, fetch, cluster, remove the
feed with the most stories, render.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .httpserver import FeedServer
from .sitecheck import broken_links, parse_html
from .test_cycle import cycle_config, serve_demo


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, args).fetchall()


def test_removing_a_feed_recounts_or_retires_its_stories_and_keeps_their_pages(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    feeds = serve_demo(feed_server)
    config = cycle_config(write_config, [])
    db = tmp_path / "data" / "aggregator.db"
    assert run_cli(config, "init").exit_code == 0
    for feed in feeds:
        assert run_cli(config, "feeds", "add", feed["url"]).exit_code == 0
    assert run_cli(config, "fetch", "--all").exit_code == 0
    assert run_cli(config, "cluster").exit_code == 0
    # The feed in the most stories; among them, stories it alone covers and stories others cover too.
    per_story = rows(
        db,
        "SELECT sa.story_id, a.feed_id, f.url FROM story_articles sa JOIN articles a ON a.id = sa.article_id "
        "JOIN feeds f ON f.id = a.feed_id",
    )
    feeds_of: dict[int, set[int]] = {}
    url_of: dict[int, str] = {}
    for story_id, feed_id, url in per_story:
        feeds_of.setdefault(story_id, set()).add(feed_id)
        url_of[feed_id] = url
    victim = max(url_of, key=lambda f: sum(f in fs for fs in feeds_of.values()))
    only = sorted(s for s, fs in feeds_of.items() if fs == {victim})
    shared = sorted(s for s, fs in feeds_of.items() if victim in fs and len(fs) > 1)
    assert only and shared, "the demo corpus should give both kinds of story"
    before = dict(rows(db, "SELECT id, article_count FROM stories"))

    removed = run_cli(config, "feeds", "remove", url_of[victim])
    assert removed.exit_code == 0
    assert f"{len(shared)} stories recounted, {len(only)} retired" in removed.output

    # Every story's counts match what it holds now; the retired ones hold nothing and are listed nowhere.
    stored = {
        sid: (count, sources, title)
        for sid, count, sources, title in rows(
            db, "SELECT id, article_count, source_count, title FROM stories WHERE merged_into_id IS NULL"
        )
    }
    held = dict(rows(db, "SELECT story_id, count(*) FROM story_articles GROUP BY story_id"))
    for sid, (count, sources, _) in stored.items():
        assert count == held.get(sid, 0), sid
        assert (sources == 0) == (count == 0), sid
    for sid in shared:
        assert 0 < stored[sid][0] < before[sid]
        lead_titles = {
            t
            for (t,) in rows(
                db,
                "SELECT a.title FROM articles a JOIN story_articles sa "
                "ON sa.article_id = a.id WHERE sa.story_id = ?",
                sid,
            )
        }
        assert stored[sid][2] in lead_titles  # the title comes from an article still there
    for sid in only:
        assert stored[sid][:2] == (0, 0)
    marks = ",".join("?" * len(only))
    assert rows(db, f"SELECT count(*) FROM story_relations WHERE related_id IN ({marks})", *only) == [(0,)]
    assert rows(db, f"SELECT count(*) FROM story_topics WHERE story_id IN ({marks})", *only) == [(0,)]
    status = run_cli(config, "status", "--json")
    assert f'"stories": {len(stored) - len(only)}' in status.output

    assert run_cli(config, "render").exit_code == 0
    site = tmp_path / "data" / "site"
    for page in (site / "stories").glob("*.html"):
        assert "0 outlets" not in page.read_text(encoding="utf-8"), page.name
    for sid in only:  # the old URL still answers, and says what happened
        doc = parse_html(site / f"stories/{sid}.html")
        assert doc.xpath("//h1[@id='retired']"), sid
        assert (site / f"feeds/stories/{sid}.atom").is_file()
    for sid in shared:
        assert parse_html(site / f"stories/{sid}.html").xpath("//h1[@id='headline']")
    archive = (site / "search.json").read_text(encoding="utf-8")
    for sid in only:
        assert f'"stories/{sid}.html"' not in archive
    assert broken_links(site) == {}

    # Removing the feed the copies were taken from: the copies are originals now, and counted as such.
    copies = rows(db, "SELECT a.id, o.feed_id FROM articles a JOIN articles o ON o.id = a.duplicate_of_id")
    assert copies, "the demo corpus has syndicated copies"
    source = copies[0][1]
    assert run_cli(config, "feeds", "remove", url_of[source]).exit_code == 0
    ids = ",".join(str(i) for i, _ in copies)
    assert rows(db, f"SELECT duplicate_of_id, duplicate_reason FROM articles WHERE id IN ({ids})") == [
        (None, None)
    ] * len(copies)
    for sid, count, sources in rows(
        db, "SELECT id, article_count, source_count FROM stories WHERE merged_into_id IS NULL"
    ):
        assert count == dict(rows(db, "SELECT story_id, count(*) FROM story_articles GROUP BY story_id")).get(
            sid, 0
        )
        assert (sources == 0) == (count == 0)
