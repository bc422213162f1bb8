"""The offline demo corpus: every feed readable, and the manifest's expected stories consistent with the feeds.

These tests check the corpus itself (what the demo is written to produce); the end-to-end demo test
checks that the pipeline actually produces it.
"""

from __future__ import annotations

import calendar
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from itertools import combinations
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

from aggregator.demo.corpus import (
    CORPUS_DIR,
    MANIFEST_NAME,
    DemoCorpusError,
    DemoFeed,
    Manifest,
    load_manifest,
    shift_dates,
    shifted_body,
)
from aggregator.sanitize import html_to_text

MANIFEST = load_manifest()
GOOD_FEEDS = [f for f in MANIFEST.feeds if not f.broken]
XML_FEEDS = [f for f in GOOD_FEEDS if not f.file.endswith(".json")]
JSON_FEEDS = [f for f in GOOD_FEEDS if f.file.endswith(".json")]
CORPUS_DAYS = timedelta(days=11)  # the first reports of the two followed-up events came a week earlier


@dataclass(frozen=True)
class Item:
    feed: str
    guid: str
    link: str
    title: str
    summary: str  # plain text
    body: str  # plain text of content:encoded / Atom content / content_html; "" when the feed has none
    published: datetime
    categories: tuple[str, ...]


def parse_xml(body: bytes, feed: DemoFeed) -> feedparser.FeedParserDict:
    # As the project's parser calls it: bytes in, the served Content-Type, feedparser's sanitiser off.
    return feedparser.parse(body, sanitize_html=False, response_headers={"content-type": feed.content_type})


def xml_items(feed: DemoFeed, body: bytes) -> list[Item]:
    parsed = parse_xml(body, feed)
    return [
        Item(
            feed=feed.file,
            guid=e.id,
            link=e.link,
            title=e.title,
            summary=html_to_text(e.get("summary")),
            body=html_to_text(e.content[0].value) if e.get("content") else "",
            published=datetime.fromtimestamp(calendar.timegm(e.published_parsed), UTC),
            # term: the one attribute every Atom category has (label is optional), so every parser reads it.
            categories=tuple(t.term for t in e.get("tags", [])),
        )
        for e in parsed.entries
    ]


def json_items(feed: DemoFeed, body: bytes) -> list[Item]:
    data = json.loads(body)
    return [
        Item(
            feed=feed.file,
            guid=i["id"],
            link=i["url"],
            title=i["title"],
            summary=i.get("summary", ""),
            body=html_to_text(i.get("content_html")),
            published=datetime.fromisoformat(i["date_published"]).astimezone(UTC),
            categories=tuple(i.get("tags", ())),
        )
        for i in data["items"]
    ]


def items_of(feed: DemoFeed, body: bytes | None = None) -> list[Item]:
    body = feed.path.read_bytes() if body is None else body
    return json_items(feed, body) if feed.file.endswith(".json") else xml_items(feed, body)


ITEMS = [item for feed in GOOD_FEEDS for item in items_of(feed)]
BY_GUID = {item.guid: item for item in ITEMS}


def test_manifest_lists_every_file_and_five_or_six_working_outlets() -> None:
    on_disk = {p.name for p in CORPUS_DIR.iterdir()} - {MANIFEST_NAME}
    assert on_disk == {f.file for f in MANIFEST.feeds}
    assert 5 <= len(GOOD_FEEDS) <= 6
    assert len(JSON_FEEDS) == 1
    assert len(MANIFEST.feeds) == len({f.title for f in MANIFEST.feeds})
    assert 40 <= len(ITEMS) <= 60


@pytest.mark.parametrize("feed", XML_FEEDS, ids=lambda f: f.file)
def test_xml_feed_parses_cleanly_with_feedparser(feed: DemoFeed) -> None:
    parsed = parse_xml(feed.path.read_bytes(), feed)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version in {"rss20", "atom10"}
    assert parsed.feed.title == feed.title or parsed.feed.title.startswith(feed.title)
    assert parsed.entries and all(e.get("id") and e.get("link") and e.get("title") for e in parsed.entries)


@pytest.mark.parametrize("feed", JSON_FEEDS, ids=lambda f: f.file)
def test_json_feed_follows_json_feed_1_1(feed: DemoFeed) -> None:
    # feedparser 6.0 cannot read JSON Feed (it reports invalid XML), so check the 1.1 spec's shape directly.
    data = json.loads(feed.path.read_bytes())
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["title"] == feed.title
    for item in data["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item["url"].startswith("https://") and item["title"]
        assert "content_html" in item or "content_text" in item
        assert all(isinstance(a["name"], str) for a in item["authors"])
        assert datetime.fromisoformat(item["date_published"]).tzinfo is not None


def test_the_mix_of_formats_includes_rss_atom_json_and_a_teaser_only_feed() -> None:
    versions = {f.file: parse_xml(f.path.read_bytes(), f).version for f in XML_FEEDS}
    assert {"rss20", "atom10"} <= set(versions.values())
    teaser_feeds = [
        f.file
        for f in GOOD_FEEDS
        if all(not i.body and len(i.summary.split()) <= 40 for i in ITEMS if i.feed == f.file)
    ]
    assert teaser_feeds, "one feed should give short teasers only"


def test_guids_and_links_are_unique_across_the_corpus() -> None:
    # Syndicated copies have their own GUIDs and links too: dedupe must find them by their text.
    guids = Counter(item.guid for item in ITEMS)
    links = Counter(item.link for item in ITEMS)
    assert [g for g, n in guids.items() if n > 1] == []
    assert [u for u, n in links.items() if n > 1] == []


def test_links_stay_on_each_outlets_example_domain() -> None:
    for feed in GOOD_FEEDS:
        hosts = {urlsplit(i.link).hostname for i in ITEMS if i.feed == feed.file}
        assert len(hosts) == 1, (feed.file, hosts)
        (host,) = hosts
        assert host is not None and host.endswith(".example")
        assert all(urlsplit(i.link).scheme == "https" for i in ITEMS if i.feed == feed.file)


def test_every_item_is_expected_exactly_once() -> None:
    in_stories = [g for story in MANIFEST.stories for g in story.guids]
    expected = Counter(in_stories + list(MANIFEST.singletons))
    assert [g for g, n in expected.items() if n > 1] == []
    assert set(expected) - set(BY_GUID) == set(), "manifest names GUIDs that no feed has"
    assert set(BY_GUID) - set(expected) == set(), "items the manifest does not account for"
    assert len({BY_GUID[g].feed for g in MANIFEST.singletons}) >= 5  # noise from most outlets
    assert len(MANIFEST.singletons) >= 10


def syndicated_guids(manifest: Manifest) -> set[str]:
    return {g for s in manifest.syndicated for g in (s.original, *s.copies)}


def test_same_event_stories_come_from_three_outlets_in_different_words() -> None:
    copied = syndicated_guids(MANIFEST)
    events = [s for s in MANIFEST.stories if not set(s.guids) & copied]
    assert len(events) >= 4
    for story in events:
        items = [BY_GUID[g] for g in story.guids]
        assert len({i.feed for i in items}) >= 3, story.name
        for a, b in combinations(items, 2):
            assert SequenceMatcher(None, a.title, b.title).ratio() < 0.7, (a.title, b.title)
            assert SequenceMatcher(None, a.summary, b.summary).ratio() < 0.6, (a.summary, b.summary)
        # Same event: the reports share the names the clustering can find.
        names = [set(re.findall(r"\b[A-Z][a-z]{3,}\b", f"{i.title} {i.summary} {i.body}")) for i in items]
        assert set.intersection(*names), story.name


def test_syndicated_copies_repeat_the_original_verbatim() -> None:
    assert MANIFEST.syndicated
    for syndication in MANIFEST.syndicated:
        original = BY_GUID[syndication.original]
        assert len(original.body.split()) >= 100
        copies = [BY_GUID[g] for g in syndication.copies]
        assert len(copies) >= 2
        assert len({c.feed for c in copies} | {original.feed}) == len(copies) + 1
        for copy in copies:
            assert copy.body == original.body
            assert copy.summary == original.summary
            assert copy.link != original.link
            assert SequenceMatcher(None, copy.title, original.title).ratio() > 0.9
            assert timedelta(0) < copy.published - original.published < timedelta(hours=6)
        story = [s for s in MANIFEST.stories if syndication.original in s.guids]
        assert len(story) == 1 and set(story[0].guids) == {syndication.original, *syndication.copies}


def test_follow_ups_are_later_events_on_the_same_subject() -> None:
    assert len(MANIFEST.follow_ups) >= 1
    for follow in MANIFEST.follow_ups:
        first = [BY_GUID[g] for g in MANIFEST.story(follow.story).guids]
        later = [BY_GUID[g] for g in MANIFEST.story(follow.follow_up).guids]
        gap = min(i.published for i in later) - min(i.published for i in first)
        assert timedelta(days=9) <= gap <= timedelta(days=10), (follow, gap)
        assert max(i.published for i in first) < min(i.published for i in later)
        assert len({i.feed for i in later}) >= 3


def test_categories_carry_variants_that_should_normalise_together() -> None:
    labels = {c for item in ITEMS for c in item.categories}
    assert len(MANIFEST.same_topic_labels) >= 2
    for group in MANIFEST.same_topic_labels:
        assert set(group) <= labels, group
    assert any(not i.categories for i in ITEMS) and sum(bool(i.categories) for i in ITEMS) > len(ITEMS) / 2


def test_some_items_carry_a_full_body_for_the_full_text_paths() -> None:
    long_bodies = {i.guid: len(i.body.split()) for i in ITEMS if i.body and len(i.body.split()) >= 100}
    assert len(long_bodies) >= 10
    assert max(long_bodies.values()) <= 300, long_bodies
    for item in ITEMS:
        sentences = len(re.findall(r"[.!?](?:\s|$)", item.summary))
        assert 1 <= sentences <= 5, item.summary


def test_prose_names_no_weekday() -> None:
    # The demo moves every date by (now - base_date); a "Tuesday" in the text would stop matching its date.
    for item in ITEMS:
        text = f"{item.title} {item.summary} {item.body}"
        assert not re.search(r"\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b", text), (item.guid, text)


def test_all_dates_lie_in_the_days_before_base_date() -> None:
    start = MANIFEST.base_date - CORPUS_DAYS
    assert all(start <= i.published < MANIFEST.base_date for i in ITEMS)
    days = {i.published.date() for i in ITEMS}
    last_four = {(MANIFEST.base_date - timedelta(days=d)).date() for d in range(1, 5)}
    assert last_four <= days  # most of the news is in the last four days
    for feed in XML_FEEDS:
        parsed = parse_xml(feed.path.read_bytes(), feed)
        # published first: feedparser warns when updated_parsed is read on a feed that has none.
        when = parsed.feed.get("published_parsed") or parsed.feed.get("updated_parsed")
        assert (
            when is not None
            and start <= datetime.fromtimestamp(calendar.timegm(when), UTC) < MANIFEST.base_date
        )


def test_broken_feed_is_not_a_feed() -> None:
    broken = [f for f in MANIFEST.feeds if f.broken]
    assert len(broken) == 1
    for feed in broken:
        parsed = parse_xml(feed.path.read_bytes(), feed)
        assert parsed.bozo and not parsed.entries and parsed.version == ""
        assert b"<html" in feed.path.read_bytes()


NOW = datetime(2027, 3, 1, 9, 30, 15, tzinfo=UTC)


@pytest.mark.parametrize("feed", GOOD_FEEDS, ids=lambda f: f.file)
def test_shifted_feeds_end_at_now_with_every_date_moved(feed: DemoFeed) -> None:
    original = {i.guid: i for i in items_of(feed)}
    body = shifted_body(feed, MANIFEST, NOW)
    if feed in XML_FEEDS:
        assert not parse_xml(body, feed).bozo
    shifted = items_of(feed, body)
    assert [i.guid for i in shifted] == list(original)
    for item in shifted:
        assert item.published - original[item.guid].published == NOW - MANIFEST.base_date
        assert NOW - CORPUS_DAYS <= item.published < NOW
        assert (item.title, item.body) == (original[item.guid].title, original[item.guid].body)
    # No date left behind anywhere in the body (feed-level dates too), though ids and links keep theirs.
    assert b"Nov 2026" not in body
    stamps = re.findall(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)", body)
    assert all(NOW - CORPUS_DAYS <= datetime.fromisoformat(s.decode()) <= NOW for s in stamps)


def test_shift_dates_keeps_each_format_and_zone() -> None:
    body = (
        b"<pubDate>Thu, 26 Nov 2026 14:48:00 GMT</pubDate><pubDate>Tue, 24 Nov 2026 12:10:00 +0100</pubDate>"
        b'<updated>2026-11-26T12:45:00+01:00</updated>"date_published": "2026-11-26T18:40:00Z"'
        b"<link>https://x.example/2026/11/26/a-2026-11-26</link>"
    )
    assert shift_dates(body, timedelta(days=10, hours=1)) == (
        b"<pubDate>Sun, 06 Dec 2026 15:48:00 GMT</pubDate><pubDate>Fri, 04 Dec 2026 13:10:00 +0100</pubDate>"
        b'<updated>2026-12-06T13:45:00+01:00</updated>"date_published": "2026-12-06T19:40:00Z"'
        b"<link>https://x.example/2026/11/26/a-2026-11-26</link>"
    )


def test_broken_feed_is_served_unchanged() -> None:
    (feed,) = [f for f in MANIFEST.feeds if f.broken]
    assert shifted_body(feed, MANIFEST, NOW) == feed.path.read_bytes()


def test_load_manifest_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(DemoCorpusError, match="cannot read the demo manifest"):
        load_manifest(tmp_path)
    raw = json.loads((CORPUS_DIR / MANIFEST_NAME).read_text(encoding="utf-8"))
    raw["expected"]["follow_ups"].append({"story": "tollgate-bridge-collapse", "follow_up": "no-such-story"})
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(DemoCorpusError, match="no-such-story"):
        load_manifest(tmp_path)
    raw["expected"]["follow_ups"].pop()
    del raw["base_date"]
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(DemoCorpusError, match="base_date"):
        load_manifest(tmp_path)
