"""Builders for database rows in tests: feeds, articles, stories with members, relations and topics.

They write through the ORM into a real migrated database, as the pipeline's stages would.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from aggregator.db.models import Article, Feed, Story, StoryArticle, StoryRelation, StoryTopic, Topic

_ids = itertools.count(1)


def make_feed(session: Session, url: str, *, title: str = "", now: datetime, **fields: object) -> Feed:
    feed = Feed(url=url, title=title or url, origin="cli", status="active", added_at=now, **fields)
    session.add(feed)
    session.flush()
    return feed


def make_article(
    session: Session,
    feed: Feed,
    *,
    title: str,
    published: datetime,
    summary: str = "",
    content: str = "",
    url: str | None = None,
    categories: Sequence[str] = (),
    **fields: object,
) -> Article:
    n = next(_ids)
    url = url or f"{feed.url.rstrip('/')}/article-{n}"
    article = Article(
        feed_id=feed.id,
        guid=url,
        url=url,
        canonical_url=url,
        title=title,
        summary=summary,
        content=content,
        categories=list(categories),
        published_at=published,
        fetched_at=published,
        **fields,
    )
    session.add(article)
    session.flush()
    return article


def make_story(
    session: Session, articles: Sequence[Article], *, now: datetime, title: str | None = None
) -> Story:
    """A story holding ``articles`` (the first is the lead); counts and times follow from them."""
    times = [a.published_at for a in articles]
    feeds = {a.feed_id for a in articles if a.duplicate_of_id is None}
    story = Story(
        title=title or articles[0].title,
        created_at=now,
        updated_at=now,
        first_published_at=min(times),
        last_published_at=max(times),
        article_count=len(articles),
        source_count=len(feeds),
    )
    session.add(story)
    session.flush()
    for article in articles:
        session.add(StoryArticle(article_id=article.id, story_id=story.id, added_at=now, similarity=1.0))
        article.clustered_at = now
    session.flush()
    return story


def relate(session: Session, story: Story, related: Sequence[Story]) -> None:
    for rank, other in enumerate(related, 1):
        session.add(StoryRelation(story_id=story.id, related_id=other.id, rank=rank, score=1.0 / rank))
    session.flush()


def tag(session: Session, story: Story, labels: Sequence[str]) -> list[Topic]:
    topics = []
    for rank, label in enumerate(labels, 1):
        key = label.lower()
        topic = session.query(Topic).filter_by(key=key).one_or_none()
        if topic is None:
            topic = Topic(key=key, label=label, kind="subject")
            session.add(topic)
            session.flush()
        session.add(StoryTopic(story_id=story.id, topic_id=topic.id, rank=rank, score=1.0 / rank))
        topics.append(topic)
    session.flush()
    return topics


def sample_news(session: Session, now: datetime) -> dict[str, object]:
    """A small world: three outlets, a two-outlet story with a syndicated copy, a related follow-up a week
    later, an unrelated story, topics, and one article carrying hostile HTML."""
    bbc = make_feed(session, "http://127.0.0.1:9/bbc.xml", title="BBC News", now=now)
    npr = make_feed(session, "http://127.0.0.1:9/npr.xml", title="NPR", now=now)
    wire = make_feed(session, "http://127.0.0.1:9/wire.xml", title="Wire Daily", now=now)
    t0 = now - timedelta(hours=5)
    a1 = make_article(
        session, bbc, title="Flood waters rise in Riverton", published=t0,
        summary="<p>Heavy rain has flooded <b>Riverton</b>.</p>", categories=["Weather", "Floods"],
    )  # fmt: skip
    a2 = make_article(
        session, npr, title="Riverton evacuates as river bursts its banks", published=t0 + timedelta(hours=1),
        summary='<p>Residents left.<script>alert("x")</script><img src=x onerror="alert(1)"></p>'
        '<a href="javascript:alert(1)">click</a>',
    )  # fmt: skip
    a3 = make_article(
        session, wire, title="Riverton evacuates as river bursts its banks", published=t0 + timedelta(hours=2),
        summary="<p>Residents left.</p>", duplicate_of_id=a2.id, duplicate_reason="text",
    )  # fmt: skip
    flood = make_story(session, [a1, a2, a3], now=now)
    a4 = make_article(
        session, bbc, title="Riverton flood inquiry opens", published=now - timedelta(days=7),
        summary="An inquiry into last year's flood defences.",
    )  # fmt: skip
    inquiry = make_story(session, [a4], now=now)
    a5 = make_article(session, npr, title="Orchestra wins national prize", published=now - timedelta(hours=2))
    prize = make_story(session, [a5], now=now)
    relate(session, flood, [inquiry])
    relate(session, inquiry, [flood])
    tag(session, flood, ["Floods", "Riverton"])
    tag(session, inquiry, ["Riverton"])
    tag(session, prize, ["Music"])
    return {"feeds": [bbc, npr, wire], "stories": {"flood": flood, "inquiry": inquiry, "prize": prize}}
