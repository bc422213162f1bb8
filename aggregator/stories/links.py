"""Database glue for "More on this story" and "Explore more on these topics".

    update_story_links(session, story_ids, config, now)
      stories in the time window around story_ids (Story.first_published_at, indexed)
      -> their articles (StoryArticle -> Article; copies left out) as ArticleDoc, categories cleaned with
         each feed's vocabulary (feed_vocabularies: its names, ignore_categories, its blanket categories)
      -> build_links (aggregator.stories.linking): TopicModel learns from the window's categorised stories
         -> topics per article (categories, else inferred) -> shown topics per story -> StoryTopic rows
      -> story profiles and storyline evidence -> StoryLinker (related index + storyline model, see
         aggregator.stories.linking) -> StoryRelation rows for story_ids, in date order
      -> and for the stories now related to them, whose lists the new stories may enter

The work is bounded by the window (twice ``stories.related_window_days`` either side of the given stories),
never the whole database, and a story's profile is cached in ``Story.links_state`` (this module is its only
writer) so that only stories changed since are read again. Decisions live in the pure modules :mod:`aggregator.stories.linking`,
:mod:`aggregator.stories.related`, :mod:`aggregator.stories.storylines` and :mod:`aggregator.stories.topics`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from ..config import Config
from ..db.models import Article, Feed, Story, StoryArticle, StoryRelation, StoryTopic, Topic
from ..sanitize import html_to_text
from .categories import FeedVocabulary
from .doc import ArticleDoc, stored_article_doc
from .hygiene import CAPACITY, FeedHygiene
from .linking import StoryLinker, StoryLinks, build_links
from .related import StoryProfile
from .storylines import StoryEvidence, StorylineModel
from .topics import TopicScore, displayed_topics

log = logging.getLogger(__name__)

# Story.links_state holds the story's profile, topics, categories (with their outlets) and storyline evidence,
# and what they were computed from: the story's article count and its updated_at (the clustering step moves it
# whenever it changes the story).
STATE_VERSION = 4
# A feed's categories on nearly all of its latest items describe the feed (aggregator.stories.categories).
VOCABULARY_ITEMS = 200
HYGIENE_ITEMS = CAPACITY  # a feed's latest items its boilerplate is learned from
SUMMARY_HEAD = 8000


@dataclass(frozen=True)
class LinksResult:
    stories: int  # stories whose lists were (re)written
    relations: int  # StoryRelation rows written
    topics: int  # StoryTopic rows written


def _survivor(session: Session, story_id: int) -> Story | None:
    """The story a (possibly merged) id now stands for."""
    seen: set[int] = set()
    story = session.get(Story, story_id)
    while story is not None and story.merged_into_id is not None and story.id not in seen:
        seen.add(story.id)
        story = session.get(Story, story.merged_into_id)
    return story


def _window_stories(session: Session, targets: Sequence[Story], window: timedelta) -> list[Story]:
    low = min(s.first_published_at for s in targets) - window
    high = max(s.last_published_at for s in targets) + window
    rows = session.scalars(
        select(Story)
        .where(
            Story.merged_into_id.is_(None), Story.last_published_at >= low, Story.first_published_at <= high
        )
        .order_by(Story.id)
    )
    return list(rows)


def feed_hygiene(session: Session, feed_ids: Iterable[int] | None = None) -> FeedHygiene:
    """Each feed's boilerplate, learned from its latest items as the story engine learns it, under the feed's
    title (the ``feed`` of its articles' docs): the links stage reads summaries without it, the story pages
    their excerpts. ``feed_ids``: only those feeds (default: all)."""
    hygiene = FeedHygiene()
    feeds = select(Feed) if feed_ids is None else select(Feed).where(Feed.id.in_(sorted(feed_ids)))
    for feed in session.scalars(feeds):
        recent = session.execute(
            select(Article.id, Article.title, func.substr(Article.summary, 1, SUMMARY_HEAD))
            .where(Article.feed_id == feed.id)
            .order_by(Article.published_at.desc(), Article.id.desc())
            .limit(HYGIENE_ITEMS)
        ).all()
        for article_id, title, summary in reversed(recent):
            hygiene.observe(str(article_id), feed.title, html_to_text(title), html_to_text(summary or ""))
    return hygiene


def feed_vocabularies(session: Session, config: Config) -> dict[int, FeedVocabulary]:
    """What each feed's categories are cleaned with: its names, its ``ignore_categories`` setting and the
    categories on most of its latest ``VOCABULARY_ITEMS`` items."""
    ignore = {f.url: f.ignore_categories for f in config.feeds}
    vocabularies = {}
    for feed in session.scalars(select(Feed)):
        recent = session.scalars(
            select(Article.categories)
            .where(Article.feed_id == feed.id)
            .order_by(Article.published_at.desc(), Article.id.desc())
            .limit(VOCABULARY_ITEMS)
        )
        vocabularies[feed.id] = FeedVocabulary.build(
            (feed.title,),
            (feed.outlet, feed.outlet_key),
            ignore.get(feed.url, ()),
            [list(c or ()) for c in recent],
        )
    return vocabularies


def _members(
    session: Session, story_ids: Iterable[int], vocabularies: dict[int, FeedVocabulary]
) -> dict[int, list[ArticleDoc]]:
    ids = list(story_ids)
    members: dict[int, list[ArticleDoc]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(StoryArticle.story_id, Article, Feed)
            .join(Article, Article.id == StoryArticle.article_id)
            .join(Feed, Feed.id == Article.feed_id)
            .where(StoryArticle.story_id.in_(chunk), Article.duplicate_of_id.is_(None))
            .order_by(StoryArticle.story_id, Article.published_at, Article.id)
        )
        for story_id, article, feed in rows:
            doc = stored_article_doc(article, feed)
            if doc.categories:
                vocabulary = vocabularies.get(feed.id) or FeedVocabulary()
                doc = replace(doc, categories=vocabulary.clean(doc.categories, article.author))
            members[story_id].append(doc)
    return members


def _topic_rows(session: Session, topics: Sequence[TopicScore]) -> dict[str, Topic]:
    keys = [t.key[:200] for t in topics]
    found = {t.key: t for t in session.scalars(select(Topic).where(Topic.key.in_(keys)))} if keys else {}
    for t in topics:
        key = t.key[:200]
        if key not in found:
            found[key] = Topic(key=key, label=t.label[:200], kind=None)
            session.add(found[key])
        elif found[key].label != t.label[:200]:
            found[key].label = t.label[:200]  # the form the outlets use most, as learnt so far
    session.flush()
    return found


def _is_current(data: Any, article_count: int, updated_at: datetime) -> bool:
    """Whether a cached ``links_state`` was computed from the story as it is now."""
    return (
        isinstance(data, dict)
        and data.get("v") == STATE_VERSION
        and data.get("articles") == article_count
        and data.get("updated") == updated_at.isoformat()
    )


def _from_state(story: Story) -> StoryLinks | None:
    data = story.links_state
    if not _is_current(data, story.article_count, story.updated_at):
        return None
    assert data is not None
    topics = [
        TopicScore(str(k), str(label), float(score), bool(names)) for k, label, score, names in data["topics"]
    ]
    profile = StoryProfile(
        story.id,
        {str(t): float(w) for t, w in data["terms"].items()},
        story.first_published_at,
        {t.key: t.score for t in topics if not t.names_only},
        frozenset(data["feeds"]),
    )
    evidence = StoryEvidence.from_json(data["evidence"])
    return StoryLinks(
        profile,
        topics,
        [str(c) for c in data["categories"]],
        [str(o) for o in data["category_outlets"]],
        evidence,
    )


def _to_state(story: Story, links: StoryLinks) -> None:
    story.links_state = {
        "v": STATE_VERSION,
        "articles": story.article_count,
        "updated": story.updated_at.isoformat(),
        "terms": {t: round(w, 4) for t, w in links.profile.terms.items()},
        "topics": [[t.key, t.label, round(t.score, 4), t.names_only] for t in links.topics],
        "feeds": sorted(links.profile.feeds),
        "categories": links.categories,
        "category_outlets": links.category_outlets,
        "evidence": links.evidence.to_json(),
    }


def drop_story_links(session: Session, story_ids: Sequence[int]) -> int:
    """Remove everything "More on this story" and the topics hold for ``story_ids`` (stories merged into
    others): their own lists and topics, and their places in other stories' lists. Those other stories are
    made stale, so the next links run gives them complete lists again. Returns the rows removed."""
    if not story_ids:
        return 0
    ids = list(story_ids)
    listing = session.scalars(
        select(StoryRelation.story_id).where(StoryRelation.related_id.in_(ids)).distinct()
    ).all()
    session.execute(
        update(Story)
        .where(Story.id.in_([sid for sid in listing if sid not in ids]))
        .values(links_state=None)
        .execution_options(synchronize_session="fetch")
    )
    removed = session.execute(
        delete(StoryRelation).where(or_(StoryRelation.story_id.in_(ids), StoryRelation.related_id.in_(ids)))
    ).rowcount  # type: ignore[attr-defined]
    removed += session.execute(delete(StoryTopic).where(StoryTopic.story_id.in_(ids))).rowcount  # type: ignore[attr-defined]
    return int(removed)


def drop_merged_story_links(session: Session) -> int:
    """:func:`drop_story_links` for every merged story still holding such rows (left by an older version)."""
    merged = select(Story.id).where(Story.merged_into_id.is_not(None))
    ids = set(session.scalars(select(StoryRelation.story_id).where(StoryRelation.story_id.in_(merged))))
    ids |= set(session.scalars(select(StoryRelation.related_id).where(StoryRelation.related_id.in_(merged))))
    ids |= set(session.scalars(select(StoryTopic.story_id).where(StoryTopic.story_id.in_(merged))))
    removed = drop_story_links(session, sorted(ids))
    if removed:
        log.info("story links: removed %d rows of %d merged stories", removed, len(ids))
    return removed


def stale_story_ids(session: Session, config: Config, now: datetime) -> list[int]:
    """Recent stories whose links were computed from an older version of the story (or never): the clustering
    step moves ``Story.updated_at`` whenever it changes a story. This lets a run that crashed between
    clustering and linking catch up."""
    since = now - timedelta(days=config.stories.related_window_days)
    rows = session.execute(
        select(Story.id, Story.article_count, Story.updated_at, Story.links_state).where(
            Story.merged_into_id.is_(None), Story.article_count > 0, Story.last_published_at >= since
        )
    )  # article_count 0: retired (every article removed with its feed), nothing to link
    return [story_id for story_id, count, updated, data in rows if not _is_current(data, count, updated)]


def update_story_links(
    session: Session,
    story_ids: Iterable[int],
    config: Config,
    now: datetime,
    model: StorylineModel | None = None,
) -> LinksResult:
    """(Re)compute "More on this story" and the topics of ``story_ids``, and refresh the lists of the stories
    they now relate to. ``now`` does not enter the ranking: its time prior is relative to the stories' own
    times.

    Stories whose cached profile is current (same article count) are not re-read; given stories always are.
    Rows left on merged stories are removed first. ``model`` replaces the shipped storyline model (for tests).
    """
    drop_merged_story_links(session)
    settings = config.stories
    window = timedelta(days=settings.related_window_days)
    targets: dict[int, Story] = {}
    for sid in story_ids:
        story = _survivor(session, sid)
        if story is not None:
            targets[story.id] = story
    if not targets:
        return LinksResult(0, 0, 0)

    # Twice the window: the stories related to the targets get complete lists of their own too.
    stories = {s.id: s for s in _window_stories(session, list(targets.values()), 2 * window)}
    stories.update(targets)
    links: dict[int, StoryLinks] = {}
    for sid, story in stories.items():
        cached = None if sid in targets else _from_state(story)
        if cached is not None:
            links[sid] = cached
    members = _members(
        session, [sid for sid in stories if sid not in links], feed_vocabularies(session, config)
    )
    cached_keys = set(links)
    links = build_links(members, links, hygiene=feed_hygiene(session))
    for sid in links:
        if sid not in cached_keys:
            _to_state(stories[sid], links[sid])

    linker = StoryLinker(links, window, settings.related_count, model)
    to_write: dict[int, None] = dict.fromkeys(sorted(t for t in targets if t in links))
    lists = {}
    for sid in list(to_write):
        lists[sid] = linker.lists(sid)
        for rel in lists[sid]:
            to_write.setdefault(int(rel.key))  # their lists may now hold this story
    # Everything is computed before the first write: the write transaction stays short.
    for sid in to_write:
        if sid not in lists:
            lists[sid] = linker.lists(sid)
    relations = written_topics = 0
    for sid in to_write:
        ranked = lists[sid]
        session.execute(delete(StoryRelation).where(StoryRelation.story_id == sid))
        for rank, rel in enumerate(ranked, 1):
            session.add(
                StoryRelation(story_id=sid, related_id=int(rel.key), rank=rank, score=round(rel.score, 6))
            )
            relations += 1
        shown = displayed_topics(links[sid].topics, settings.topic_count)
        rows = _topic_rows(session, shown)
        session.execute(delete(StoryTopic).where(StoryTopic.story_id == sid))
        for rank, topic in enumerate(shown, 1):
            session.add(
                StoryTopic(story_id=sid, topic_id=rows[topic.key[:200]].id, rank=rank, score=topic.score)
            )
            written_topics += 1
    session.flush()
    log.info("story links: %d stories, %d relations, %d topics", len(to_write), relations, written_topics)
    return LinksResult(len(to_write), relations, written_topics)
