"""The offline demo end to end: the site shows the stories the corpus was written to produce.

The corpus (aggregator/demo/feeds, fictional outlets) is served on 127.0.0.1 and goes through the real cycle:
fetch, cluster, render, newsletter. Assertions read the generated HTML and the .eml, by structure.
"""

from __future__ import annotations

import email
import email.policy
import sqlite3
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from aggregator.demo.corpus import Manifest, load_manifest
from aggregator.demo.runner import DemoResult, run_demo

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class Page(HTMLParser):
    """Links per section id and the classes of list items, enough to check a story page's structure."""

    def __init__(self) -> None:
        super().__init__()
        self.section: list[str] = []
        self.links: dict[str, list[str]] = {}
        self.text: dict[str, list[str]] = {}
        self.article_links: list[str] = []  # <a class="article-title">: one per article shown as such

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.section.append(a.get("id") or (self.section[-1] if self.section else ""))
        if tag == "a" and a.get("href") and self.section:
            self.links.setdefault(self.section[-1], []).append(a["href"] or "")
            if "article-title" in (a.get("class") or "").split():
                self.article_links.append(a["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "section" and self.section:
            self.section.pop()

    def handle_data(self, data: str) -> None:
        if self.section and data.strip():
            self.text.setdefault(self.section[-1], []).append(data.strip())


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return run_demo(tmp_path_factory.mktemp("demo"), lambda: NOW)


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    return load_manifest()


def story_of(demo: DemoResult) -> dict[str, tuple[int, str]]:
    """GUID -> (story id, article link), read from the database the demo filled."""
    with sqlite3.connect(demo.out_dir / "data" / "aggregator.db") as conn:
        rows = conn.execute(
            "SELECT a.guid, sa.story_id, a.url FROM articles a JOIN story_articles sa ON sa.article_id = a.id"
        ).fetchall()
    return {guid: (story, url) for guid, story, url in rows}


def test_the_cycle_ran_and_named_the_broken_feed(demo: DemoResult, manifest: Manifest) -> None:
    outcomes = {s.step: s for s in demo.cycle.steps}
    assert [s.step for s in demo.cycle.steps] == ["fetch", "extract", "cluster", "render", "newsletter"]
    assert outcomes["fetch"].outcome == "partial"
    (broken,) = [f.file for f in manifest.feeds if f.broken]
    assert broken in outcomes["fetch"].line
    assert all(outcomes[s].outcome == "ok" for s in ("cluster", "render", "newsletter"))
    assert demo.site_index.is_file()
    from aggregator.config import load_config

    written = load_config(demo.out_dir / "config.toml", environ={})  # so `aggregator --config … status` works
    assert written.database_url == demo.config.database_url and written.feeds == demo.config.feeds


def test_same_event_reports_are_one_story_page_listing_every_outlet(
    demo: DemoResult, manifest: Manifest
) -> None:
    stories = story_of(demo)
    for expected in manifest.stories:
        ids = {stories[g][0] for g in expected.guids}
        assert len(ids) == 1, f"{expected.name} was split into stories {ids}"
        page = parse(demo.site_index.parent / "stories" / f"{ids.pop()}.html")
        listed = set(page.links.get("coverage", []))
        originals = {stories[g][1] for g in expected.guids} - {
            stories[c][1] for s in manifest.syndicated for c in s.copies
        }
        assert originals <= listed, f"{expected.name}: story page misses {originals - listed}"
        others = {url for g, (_, url) in stories.items() if g not in expected.guids}
        assert not (listed & others), f"{expected.name}: story page lists other events' articles"


def test_the_syndicated_copy_is_collapsed_into_its_original(demo: DemoResult, manifest: Manifest) -> None:
    stories = story_of(demo)
    for syndication in manifest.syndicated:
        story_id, original_url = stories[syndication.original]
        page = parse(demo.site_index.parent / "stories" / f"{story_id}.html")
        assert page.article_links.count(original_url) == 1
        for copy in syndication.copies:
            assert stories[copy][0] == story_id
            assert stories[copy][1] not in page.article_links  # not an article of its own
            assert stories[copy][1] in page.links["coverage"]  # but linked under "Also published by"
        assert any("Also published by" in t for t in page.text.get("coverage", []))


def test_the_follow_up_is_its_own_story_and_more_on_this_story_lists_only_its_storyline(
    demo: DemoResult, manifest: Manifest
) -> None:
    """The follow-up is a story of its own; "More on this story" shows fewer and right: whatever the
    calibrated storyline model lists under the first story is the follow-up, never an unrelated story.
    (With the shipped model the demo's bridge inquiry scores below the threshold, so the list is empty:
    a recall miss reported in the issue note, not hidden here.)"""
    stories = story_of(demo)
    for follow in manifest.follow_ups:
        first = stories[manifest.story(follow.story).guids[0]][0]
        later = stories[manifest.story(follow.follow_up).guids[0]][0]
        assert first != later, f"{follow.follow_up} was merged into {follow.story}"
        page = parse(demo.site_index.parent / "stories" / f"{first}.html")
        listed = {href.rsplit("/", 1)[-1] for href in page.links.get("related", [])}
        assert listed <= {f"{later}.html"}, f"{follow.story} lists stories of other storylines: {listed}"


def test_the_newsletter_was_written_and_links_to_the_site(demo: DemoResult, manifest: Manifest) -> None:
    (eml,) = demo.emails
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",))
    assert text is not None
    body = text.get_content()
    assert demo.config.site.base_url + "stories/" in body
    stories = story_of(demo)
    lead = stories[manifest.stories[0].guids[0]][0]
    assert f"stories/{lead}.html" in body


def test_a_digest_from_the_pipeline_arrives_at_a_real_smtp_server(tmp_path: Path, manifest: Manifest) -> None:
    """Issue 7's end to end: feeds polled and clustered by the real cycle, the digest sent by SMTP on loopback."""
    from dataclasses import replace

    from aggregator.db import Database, upgrade
    from aggregator.demo.runner import demo_config, serve_corpus
    from aggregator.ingest.feeds import sync_config_feeds
    from aggregator.run.pipeline import run_cycle

    from .test_newsletter import start_server

    controller, server = start_server(auth_require_tls=False)
    try:
        with serve_corpus(manifest, NOW) as base_url:
            config = demo_config(tmp_path, base_url, manifest)
            config = replace(
                config,
                newsletter=replace(
                    config.newsletter,
                    delivery="smtp",
                    smtp_host="127.0.0.1",
                    smtp_port=server.port,
                    smtp_security="none",
                ),
            )
            db = Database(config.database_url)
            upgrade(db)
            with db.session() as s:
                sync_config_feeds(s, config.feeds, now=NOW)
            cycle = run_cycle(db, config, lambda: NOW)
            db.dispose()
    finally:
        controller.stop()
    assert {s.step: s.outcome for s in cycle.steps}["newsletter"] == "ok"
    (envelope,) = server.handler.messages
    assert envelope.rcpt_tos == ["reader@example.org"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    headline = "Tollgate"  # the corpus's biggest story leads the digest
    assert headline in str(message["Subject"]) or headline in text.get_content()
    assert "<script" not in html.get_content().lower()
