"""The story engine on the offline demo corpus: the stories the manifest expects, and no false merges.

The demo's feeds are parsed with the production parser and turned into the engine's documents by the
production conversion (:func:`aggregator.stories.doc.stored_article_doc`), then fed to the pure :class:`StoryEngine`
in the order ``aggregator cluster`` uses (publication time, then arrival). No HTTP and no database: what is
checked is the engine's decisions on this corpus, the end-to-end demo test checks the pipeline around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from aggregator.config import StoriesConfig
from aggregator.db.models import Article, Feed
from aggregator.demo.corpus import Manifest, load_manifest
from aggregator.ingest.feeds import assign_outlet
from aggregator.ingest.parse import parse_feed
from aggregator.stories.doc import stored_article_doc
from aggregator.stories.engine import StoryEngine

MANIFEST = load_manifest()
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Placed:
    story: int
    duplicate_of: str | None  # the original's GUID


def cluster_demo(manifest: Manifest, settings: StoriesConfig | None = None) -> dict[str, Placed]:
    """GUID -> where the engine put it, for every item of the demo's readable feeds."""
    rows: list[tuple[datetime, int, Article, Feed]] = []
    for feed_no, demo_feed in enumerate(f for f in manifest.feeds if not f.broken):
        url = f"http://127.0.0.1/feeds/{demo_feed.file}"
        data = parse_feed(
            demo_feed.path.read_bytes(), {"content-type": demo_feed.content_type}, url=url, now=NOW
        )
        feed = Feed(id=feed_no + 1, url=url, title=data.title, site_url=data.site_url)
        assign_outlet(feed, own_title=data.title, entry_urls=[e.url for e in data.entries])  # as a fetch does
        for entry in data.entries:
            article = Article(
                id=len(rows) + 1,
                guid=entry.guid,
                url=entry.url,
                title=entry.title,
                summary=entry.summary,
                content=entry.content,
                categories=list(entry.categories),
                published_at=entry.published_at,
                dated=entry.dated,
                language=None,
                extracted_text=None,
            )
            rows.append((entry.published_at, len(rows), article, feed))
    engine = StoryEngine(settings or StoriesConfig())
    guid_of: dict[str, str] = {}
    placed: dict[str, Placed] = {}
    ordered = sorted(rows, key=lambda r: (r[0], r[1]))
    docs = [(article, stored_article_doc(article, feed)) for _, _, article, feed in ordered]
    for _, doc in docs:  # one batch, observed whole first, as `aggregator cluster` does
        engine.observe(doc)
    for article, doc in docs:
        guid_of[str(article.id)] = article.guid
        result = engine.add(doc)
        dup = guid_of[result.duplicate_of] if result.duplicate_of is not None else None
        placed[article.guid] = Placed(result.story_id, dup)
    return placed


@pytest.fixture(scope="module")
def placed() -> dict[str, Placed]:
    return cluster_demo(MANIFEST)


def _members(placed: dict[str, Placed], story: int) -> set[str]:
    return {guid for guid, p in placed.items() if p.story == story}


def test_every_item_is_clustered(placed: dict[str, Placed]) -> None:
    expected = {g for s in MANIFEST.stories for g in s.guids} | set(MANIFEST.singletons)
    assert expected <= set(placed), f"items the engine never saw: {sorted(expected - set(placed))}"
    assert all(urlsplit(g).hostname != "127.0.0.1" for g in placed)  # GUIDs are the corpus's own


@pytest.mark.parametrize("name", [s.name for s in MANIFEST.stories])
def test_each_expected_story_is_exactly_one_engine_story(placed: dict[str, Placed], name: str) -> None:
    expected = set(MANIFEST.story(name).guids)
    stories = {placed[g].story for g in expected}
    assert len(stories) == 1, f"{name} split over {len(stories)} stories: {stories}"
    members = _members(placed, stories.pop())
    assert members == expected, f"{name}: foreign items {sorted(members - expected)}"


def test_syndicated_copies_point_to_their_original(placed: dict[str, Placed]) -> None:
    for group in MANIFEST.syndicated:
        assert placed[group.original].duplicate_of is None
        for copy in group.copies:
            assert placed[copy].duplicate_of == group.original, copy
    copies = {c for group in MANIFEST.syndicated for c in group.copies}
    false = {g: p.duplicate_of for g, p in placed.items() if p.duplicate_of and g not in copies}
    assert not false, f"items wrongly taken for copies: {false}"


@pytest.mark.parametrize("pair", MANIFEST.follow_ups, ids=lambda f: f.follow_up)
def test_follow_ups_are_separate_stories(placed: dict[str, Placed], pair: object) -> None:
    first = MANIFEST.story(pair.story)  # type: ignore[attr-defined]
    later = MANIFEST.story(pair.follow_up)  # type: ignore[attr-defined]
    assert {placed[g].story for g in first.guids}.isdisjoint({placed[g].story for g in later.guids})


@pytest.mark.parametrize("guid", MANIFEST.singletons)
def test_singletons_stand_alone(placed: dict[str, Placed], guid: str) -> None:
    others = _members(placed, placed[guid].story) - {guid}
    assert not others, f"{guid} shares a story with {sorted(others)}"
