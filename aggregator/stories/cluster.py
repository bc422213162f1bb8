"""Database glue of the story engine: `aggregator cluster` and the pipeline's clustering stage.

Data flow of :func:`cluster_pending`::

    recent stories (Story.engine_state) + the latest clustered articles (word rarity, feed hygiene, the
    originals of copies within the time window) -> StoryEngine
    articles WHERE clustered_at IS NULL ORDER BY published_at, id
      | batches of batch_size: every ArticleDoc observed, then each one engine.add -> Assignment
      | -> Story / StoryArticle rows, Article.duplicate_of_id / clustered_at
      | -> touched stories: title, counts, first/last published, Story.engine_state ; COMMIT

Nothing lives only in memory between runs: the engine is rebuilt from the database at the start of every
run (stories with coverage within ``max_gap_days`` of the oldest pending article, and the latest
``idf_articles`` clustered articles). A crash
loses at most the batch in progress, which the next run redoes; articles already clustered are never
touched again, so running twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ..config import Config, StoriesConfig
from ..db import Database
from ..db.models import Article, Feed, Story, StoryArticle, StoryRelation, StoryTopic
from .coverage import story_coverage
from .doc import stored_article_doc
from .engine import CLUSTER_BATCH, Assignment, StoryEngine, StoryState
from .headline import headline_of
from .links import stale_story_ids, update_story_links

log = logging.getLogger(__name__)


@dataclass
class ClusterSummary:
    articles: int = 0
    new_stories: int = 0
    joined: int = 0
    duplicates: int = 0
    batches: int = 0
    # The stories created or changed by this run (survivors only): their related-story lists and topics are
    # updated at the end of the run (aggregator.stories.links).
    changed_story_ids: list[int] = field(default_factory=list)
    linked: int = 0  # stories whose related list and topics were (re)computed

    def counts(self) -> dict[str, int]:
        return {
            "articles": self.articles,
            "new_stories": self.new_stories,
            "joined": self.joined,
            "duplicates": self.duplicates,
            "linked": self.linked,
        }

    def line(self) -> str:
        return (
            f"cluster: {self.articles} articles: {self.new_stories} new stories, {self.joined} joined a story, "
            f"{self.duplicates} copies; {self.linked} related lists and topics updated"
        )


def load_engine(session: Session, settings: StoriesConfig, since: datetime) -> StoryEngine:
    """An engine holding what the database knows about the stories still open at ``since``."""
    next_id = (session.scalar(select(func.max(Story.id))) or 0) + 1
    engine = StoryEngine(settings, next_story_id=next_id)
    # Document frequencies, feed profiles and the originals of later copies (copies too, under their
    # original, as the stream indexes them): learned again from the latest clustered articles, in order.
    recent = session.execute(
        select(Article, Feed, StoryArticle.story_id)
        .join(Feed, Article.feed_id == Feed.id)
        .outerjoin(StoryArticle, StoryArticle.article_id == Article.id)
        .where(Article.clustered_at.is_not(None))
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(settings.idf_articles)
    ).all()
    window_start = since - timedelta(hours=settings.time_window_hours)
    for article, feed, story_id in reversed(recent):
        original = story_id if article.published_at >= window_start else None
        copy_of = str(article.duplicate_of_id) if article.duplicate_of_id is not None else None
        engine.learn_terms(stored_article_doc(article, feed), original, copy_of=copy_of)
    horizon = since - timedelta(days=settings.max_gap_days)
    latest = (
        select(Story)
        .where(Story.merged_into_id.is_(None), Story.last_published_at >= horizon)
        .order_by(Story.last_published_at.desc(), Story.id.desc())
        .limit(settings.max_open_stories)
    )
    # Least recently updated first, as the engine keeps them.
    for story in reversed(session.scalars(latest).all()):
        state = StoryState.from_json(
            story.id, story.engine_state or {}, story.first_published_at, story.last_published_at
        )
        if state is not None:
            engine.restore_story(state)
    return engine


def _pending(session: Session, limit: int) -> list[tuple[Article, Feed]]:
    rows = session.execute(
        select(Article, Feed)
        .join(Feed, Article.feed_id == Feed.id)
        .where(Article.clustered_at.is_(None))
        .order_by(Article.published_at, Article.id)
        .limit(limit)
    ).all()
    return [(a, f) for a, f in rows]


def cluster_pending(
    db: Database, config: Config, now: datetime, batch_size: int = CLUSTER_BATCH
) -> ClusterSummary:
    """Assign every article not yet clustered to a story; one transaction per batch (see the module doc)."""
    settings = config.stories
    summary = ClusterSummary()
    changed: set[int] = set()
    with db.session() as session:
        first = session.scalar(select(func.min(Article.published_at)).where(Article.clustered_at.is_(None)))
        engine = load_engine(session, settings, min(first, now)) if first is not None else None
    while engine is not None:
        with db.session() as session:
            batch = _pending(session, batch_size)
            if not batch:
                break
            touched: set[int] = set()
            known = _stories_of(session, [a.id for a, _ in batch] + [a.duplicate_of_id for a, _ in batch])
            docs = [stored_article_doc(article, feed) for article, feed in batch]
            for doc in docs:
                engine.observe(doc)  # the whole batch informs feed hygiene and word rarity
            for (article, _), doc in zip(batch, docs, strict=True):
                placed = _place_known(session, engine, article, known, now, summary)
                if placed is not None:
                    touched.add(placed)
                    continue
                result = engine.add(doc)
                known[article.id] = result.story_id
                _record(session, article, result, now, summary)
                touched.add(result.story_id)
            session.flush()
            live = set(touched)
            _refresh(session, engine, live, now)
            changed |= live
            summary.batches += 1
        log.debug("clustered a batch of %d articles", len(batch))
    summary.changed_story_ids = sorted(changed)
    # "More on this story" and topics for the changed stories, and for any left stale by an interrupted run.
    with db.session() as session:
        if changed and session.get_bind().dialect.name == "postgresql":
            # Story ids come from the engine (stable, set explicitly): keep the serial sequence past them.
            session.execute(
                text("SELECT setval(pg_get_serial_sequence('stories', 'id'), (SELECT max(id) FROM stories))")
            )
        stale = set(stale_story_ids(session, config, now)) | changed
        if stale:
            summary.linked = update_story_links(session, sorted(stale), config, now).stories
    log.info(
        "clustered %d articles: %d new stories, %d joined, %d copies",
        summary.articles,
        summary.new_stories,
        summary.joined,
        summary.duplicates,
    )
    return summary


def _stories_of(session: Session, article_ids: Iterable[int | None]) -> dict[int, int]:
    """The story of each of these articles that has one."""
    ids = sorted({i for i in article_ids if i is not None})
    found: dict[int, int] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(StoryArticle.article_id, StoryArticle.story_id).where(StoryArticle.article_id.in_(chunk))
        )
        found.update({article_id: story_id for article_id, story_id in rows})
    return found


def _place_known(
    session: Session,
    engine: StoryEngine,
    article: Article,
    known: dict[int, int],
    now: datetime,
    summary: ClusterSummary,
) -> int | None:
    """Articles whose story is already decided, without asking the engine; returns the story id or None.

    - An article edited by its publisher comes back with ``clustered_at`` reset: it keeps its story (a
      correction rarely moves a report to another event, and story pages should not reshuffle).
    - A copy found by URL when it was stored (``duplicate_reason = "url"``) joins its original's story.
    """
    if article.id in known:
        story_id = known[article.id]
    elif article.duplicate_of_id is not None and article.duplicate_of_id in known:
        story_id = known[article.duplicate_of_id]
        session.add(StoryArticle(article_id=article.id, story_id=story_id, added_at=now, similarity=1.0))
        known[article.id] = story_id
        summary.duplicates += 1
    else:
        return None
    engine.note_coverage(story_id, article.published_at)
    summary.articles += 1
    article.clustered_at = now
    return story_id


def _record(
    session: Session, article: Article, result: Assignment, now: datetime, summary: ClusterSummary
) -> None:
    summary.articles += 1
    if result.created is not None:
        summary.new_stories += 1
        session.add(
            Story(
                id=result.created,
                title=article.title,
                created_at=now,
                updated_at=now,
                first_published_at=article.published_at,
                last_published_at=article.published_at,
            )
        )
        session.flush()
    elif result.duplicate_of is None:
        summary.joined += 1
    if result.duplicate_of is not None:
        summary.duplicates += 1
        article.duplicate_of_id = int(result.duplicate_of)
        article.duplicate_reason = "text"
    article.clustered_at = now
    session.add(
        StoryArticle(
            article_id=article.id, story_id=result.story_id, added_at=now, similarity=result.similarity
        )
    )


@dataclass(frozen=True)
class _Member:
    """A story's article as :func:`story_coverage` counts it."""

    article: Article
    outlet_key: str

    @property
    def id(self) -> int:
        return self.article.id

    @property
    def published(self) -> datetime:
        return self.article.published_at

    @property
    def duplicate_of_id(self) -> int | None:
        return self.article.duplicate_of_id


def _refresh(session: Session, engine: StoryEngine | None, story_ids: Iterable[int], now: datetime) -> None:
    """Recompute what a story shows from its members, and store the engine's state for the next run
    (without ``engine``, the stored state is kept)."""
    for story_id in sorted(story_ids):
        story = session.get(Story, story_id)
        if story is None:
            continue
        members = session.execute(
            select(Article, Feed)
            .join(StoryArticle, StoryArticle.article_id == Article.id)
            .join(Feed, Article.feed_id == Feed.id)
            .where(StoryArticle.story_id == story_id)
            .order_by(Article.published_at, Article.id)
        ).all()
        if not members:
            continue
        coverage = story_coverage(_Member(a, f.outlet_key) for a, f in members)
        lead = headline_of(
            [stored_article_doc(a, f) for a, f in members if a.id not in coverage.copy_ids], story.title
        )
        story.title = lead.title if lead is not None else members[0][0].title
        story.article_count = len(members)
        story.source_count = coverage.outlet_count
        story.first_published_at = members[0][0].published_at
        story.last_published_at = max(a.published_at for a, _ in members)
        story.updated_at = now
        state = engine.story(story_id) if engine is not None else None
        story.engine_state = state.to_json() if state is not None else story.engine_state


@dataclass(frozen=True)
class Recounted:
    """What :func:`recount_stories` did: stories recomputed from the articles they kept, and stories retired
    because none was left."""

    updated: list[int]
    retired: list[int]


def recount_stories(session: Session, story_ids: Iterable[int], config: Config, now: datetime) -> Recounted:
    """Bring stories that lost articles (their feed was removed) back in step with what they still hold.

    A story with articles left gets its title, counts and times recomputed (:func:`_refresh`; its engine state
    is kept: the remaining reports are of the same event). A story with none left is retired: no counts, no
    engine or links state, no topics, and no other story lists it as related; its row stays, so its page (and
    the pages of stories merged into it) stays reachable and says what happened. The related lists and topics
    of the stories touched are computed again at once.
    """
    ids = sorted(set(story_ids))
    left = set(_stories_with_members(session, ids))
    updated = [i for i in ids if i in left]
    retired = [i for i in ids if i not in left]
    _refresh(session, None, updated, now)
    listing: set[int] = set()
    for start in range(0, len(retired), 500):
        chunk = retired[start : start + 500]
        for story in session.scalars(select(Story).where(Story.id.in_(chunk))):
            story.article_count = story.source_count = 0
            story.engine_state = story.links_state = None
            story.updated_at = now
        listing.update(
            session.scalars(select(StoryRelation.story_id).where(StoryRelation.related_id.in_(chunk)))
        )
        session.execute(delete(StoryRelation).where(StoryRelation.related_id.in_(chunk)))
        session.execute(delete(StoryTopic).where(StoryTopic.story_id.in_(chunk)))
    session.flush()
    relink = sorted((set(updated) | listing) - set(retired))
    if relink:
        update_story_links(session, relink, config, now)
    return Recounted(updated, retired)


def _stories_with_members(session: Session, story_ids: list[int]) -> list[int]:
    found: list[int] = []
    for start in range(0, len(story_ids), 500):
        chunk = story_ids[start : start + 500]
        found += session.scalars(
            select(StoryArticle.story_id).where(StoryArticle.story_id.in_(chunk)).distinct()
        )
    return found
