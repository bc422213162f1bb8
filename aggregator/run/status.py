"""What `aggregator status` reports: counts and every feed's health, as plain data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import Article, Feed, Story, Topic
from ..db.states import FeedStatus
from ..fulltext.extract import extraction_status
from ..publish.newsletter import newsletter_status
from .records import last_runs


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def feed_state(feed: Feed, now: datetime) -> str:
    if feed.status != FeedStatus.ACTIVE:
        return FeedStatus(feed.status).value
    if feed.consecutive_errors:
        return "error"
    if feed.last_success_at is None:
        return "new"
    return "ok"


def gather_status(session: Session, now: datetime) -> dict[str, Any]:
    article_counts = dict(
        (row[0], row[1])
        for row in session.execute(select(Article.feed_id, func.count()).group_by(Article.feed_id))
    )
    feeds = list(session.scalars(select(Feed).order_by(Feed.title, Feed.url)))
    feed_rows = [
        {
            "url": f.url,
            "title": f.title,
            "state": feed_state(f, now),
            "articles": article_counts.get(f.id, 0),
            "consecutive_errors": f.consecutive_errors,
            "last_error": f.last_error,
            "last_error_at": _iso(f.last_error_at),
            "last_success_at": _iso(f.last_success_at),
            "next_fetch_at": _iso(f.next_fetch_at),
        }
        for f in feeds
    ]

    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    return {
        "generated_at": now.isoformat(),
        "counts": {
            "feeds": len(feeds),
            "feeds_in_error": sum(1 for r in feed_rows if r["state"] == "error"),
            "articles": count(select(func.count()).select_from(Article)),
            "duplicates": count(
                select(func.count()).select_from(Article).where(Article.duplicate_of_id.is_not(None))
            ),
            "stories": count(select(func.count()).select_from(Story).where(Story.merged_into_id.is_(None))),
            "topics": count(select(func.count()).select_from(Topic)),
        },
        "runs": last_runs(session),
        "feeds": feed_rows,
        "newsletter": newsletter_status(session),
        "extraction": extraction_status(session),
    }
