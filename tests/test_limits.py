"""Oversized entry fields are cut where entries are parsed: a 2 MB title, summary or author served by a
real HTTP server on 127.0.0.1 goes through fetch, cluster, render and the newsletter with bounded sizes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from aggregator.ingest.limits import (
    AUTHOR_MAX,
    CATEGORIES_MAX,
    CONTENT_MAX,
    SUMMARY_MAX,
    TITLE_MAX,
    URL_MAX,
)

from .httpserver import FeedServer

MB = 1024 * 1024


def huge_feed(base: str) -> bytes:
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1))
    title = "Harbour bridge closes " * (2 * MB // 22)
    words = "repairs " * (2 * MB // 8)
    long_link = f"{base}/story?" + "q" * (URL_MAX + 100)
    categories = "".join(f"<category>topic {i}</category>" for i in range(5000))
    items = (
        f"<item><title>{title}</title><link>{base}/bridge</link><guid>bridge</guid>"
        f"<description>{words}</description><author>{words}</author>{categories}"
        f"<pubDate>{when}</pubDate></item>"
        f"<item><title>Ferry timetable changes</title><link>{long_link}</link><guid>ferry</guid>"
        f"<content:encoded xmlns:content='http://purl.org/rss/1.0/modules/content/'>{words}</content:encoded>"
        f"<pubDate>{when}</pubDate></item>"
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>Courier</title><link>{base}/</link>"
        f"{items}</channel></rss>"
    ).encode()


def test_a_2mb_title_is_stored_rendered_and_mailed_cut_to_size(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.route("/huge.xml", huge_feed(feed_server.url("")))
    config = write_config(
        {
            "fetch": {"allowed_networks": ["127.0.0.1/32"], "jitter_seconds": 0},
            "fulltext": {"default": False},
            "newsletter": {"recipients": ["reader@aggregator.test"]},
        }
    )
    assert run_cli(config, "init").exit_code == 0
    assert run_cli(config, "feeds", "add", url).exit_code == 0
    fetched = run_cli(config, "fetch", "--all")
    assert fetched.exit_code == 0 and "2 new" in fetched.output, fetched.output

    with sqlite3.connect(tmp_path / "data" / "aggregator.db") as conn:
        rows = conn.execute(
            "SELECT guid, length(title), length(summary), length(content), length(author), categories, url, "
            "canonical_url FROM articles ORDER BY guid"
        ).fetchall()
    (guid, title, summary, _, author, categories, _, _), ferry = rows
    assert guid == "bridge"
    assert title == TITLE_MAX and summary == SUMMARY_MAX and author == AUTHOR_MAX
    assert categories.count('"topic ') == CATEGORIES_MAX
    assert ferry[0] == "ferry" and ferry[3] == CONTENT_MAX
    assert ferry[6] is None and ferry[7] is None  # a link longer than any stored URL is dropped, not cut

    assert run_cli(config, "cluster").exit_code == 0
    assert run_cli(config, "render").exit_code == 0
    site = tmp_path / "data" / "site"
    biggest = max((p for p in site.rglob("*") if p.is_file()), key=lambda p: p.stat().st_size)
    assert biggest.stat().st_size < 300_000, biggest
    out = tmp_path / "eml"
    mailed = run_cli(config, "newsletter", "--to-dir", str(out))
    assert mailed.exit_code == 0, mailed.output
    (email,) = out.glob("*.eml")
    assert email.stat().st_size < 200_000
