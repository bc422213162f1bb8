"""Database glue for "More on this story" and "Explore more on these topics".

    update_story_links(session, story_ids, config, now)
      stories in the time window around story_ids (Story.first_published_at, indexed)
      -> their articles (StoryArticle -> Article; copies left out) as ArticleDoc
      -> TopicModel learns from the window's categorised articles
      -> topics per article (categories, else inferred) -> topics per story -> StoryTopic rows (+ Topic rows)
      -> story profiles -> RelatedIndex -> StoryRelation rows for story_ids
      -> and for the stories now related to them, whose lists the new stories may enter

The work is bounded by the window (twice ``stories.related_window_days`` either side of the given stories),
never the whole database. Decisions live in the pure modules :mod:`aggregator.related` and
:mod:`aggregator.topics`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .config import Config
from .db.models import Article, Feed, Story, StoryArticle, StoryRelation, StoryTopic, Topic
from .docs import ArticleDoc
from .related import RelatedIndex, RelatedParams, StoryProfile
from .sanitize import html_to_text
from .topics import TopicModel, TopicScore, article_profile, article_topics, story_profile, story_topics

log = logging.getLogger(__name__)

ARTICLE_TOPICS = 10  # topics kept per article before a story's ranking is cut to ``stories.topic_count``


@dataclass(frozen=True)
class LinksResult:
    stories: int  # stories whose lists were (re)written
    relations: int  # StoryRelation rows written
    topics: int  # StoryTopic rows written


def article_doc(article: Article, feed_title: str) -> ArticleDoc:
    """An Article row as the story engine sees it (plain text; the extracted text when there is one)."""
    text = article.extracted_text or html_to_text(article.content)
    return ArticleDoc(
        id=str(article.id),
        title=article.title or "",
        summary=html_to_text(article.summary),
        text=text or "",
        published=article.published_at,
        source=feed_title,
        feed=feed_title,
        categories=tuple(c for c in (article.categories or []) if isinstance(c, str) and c.strip()),
        url=article.url,
        language=article.language,
    )


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


def _members(session: Session, story_ids: Iterable[int]) -> dict[int, list[ArticleDoc]]:
    ids = list(story_ids)
    members: dict[int, list[ArticleDoc]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):  # stay under SQLite's bound-parameter limit
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(StoryArticle.story_id, Article, Feed.title)
            .join(Article, Article.id == StoryArticle.article_id)
            .join(Feed, Feed.id == Article.feed_id)
            .where(StoryArticle.story_id.in_(chunk), Article.duplicate_of_id.is_(None))
            .order_by(StoryArticle.story_id, Article.published_at, Article.id)
        )
        for story_id, article, feed_title in rows:
            members[story_id].append(article_doc(article, feed_title or ""))
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


def update_story_links(
    session: Session, story_ids: Iterable[int], config: Config, now: datetime
) -> LinksResult:
    """(Re)compute "More on this story" and the topics of ``story_ids``, and refresh the lists of the stories
    they now relate to. ``now`` is unused today (the time prior is relative to the stories' own times) and is
    kept for the pipeline's uniform stage signature."""
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
    members = _members(session, stories)

    profiles = {doc.id: article_profile(doc) for docs in members.values() for doc in docs}
    model = TopicModel()
    for docs in members.values():
        for doc in docs:
            if doc.categories:
                model.learn(profiles[doc.id], doc.categories)

    index = RelatedIndex(RelatedParams(window=window))
    topics_of: dict[int, list[TopicScore]] = {}
    story_profiles: dict[int, StoryProfile] = {}
    for sid, docs in members.items():
        if not docs:
            continue
        doc_profiles = [profiles[d.id] for d in docs]
        per_article = [
            article_topics(model, d, p, ARTICLE_TOPICS) for d, p in zip(docs, doc_profiles, strict=True)
        ]
        topics_of[sid] = story_topics(per_article, ARTICLE_TOPICS)
        story_profiles[sid] = story_profile(sid, docs, doc_profiles, topics_of[sid])
        index.add(story_profiles[sid])

    to_write: dict[int, None] = dict.fromkeys(sorted(t for t in targets if t in story_profiles))
    lists = {}
    for sid in list(to_write):
        lists[sid] = index.related(story_profiles[sid], settings.related_count)
        for rel in lists[sid]:
            to_write.setdefault(int(rel.key))  # their lists may now hold this story
    relations = written_topics = 0
    for sid in to_write:
        ranked = lists.get(sid) or index.related(story_profiles[sid], settings.related_count)
        session.execute(delete(StoryRelation).where(StoryRelation.story_id == sid))
        for rank, rel in enumerate(ranked, 1):
            session.add(
                StoryRelation(story_id=sid, related_id=int(rel.key), rank=rank, score=round(rel.score, 6))
            )
            relations += 1
        shown = topics_of[sid][: settings.topic_count]
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
