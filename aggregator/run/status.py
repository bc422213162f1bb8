"""What `aggregator status` reports: counts, every feed's health (:mod:`aggregator.ingest.health`), the last
runs, the newsletter ledger and full-text extraction, as plain data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import Article, Story, Topic, live_story
from ..fulltext.extract import extraction_status
from ..ingest.health import FeedHealthState, feed_health
from ..publish.newsletter import newsletter_status
from .records import last_runs


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def gather_status(session: Session, now: datetime) -> dict[str, Any]:
    health = feed_health(session)
    feed_rows = [
        {
            "url": h.url,
            "title": h.title,
            "name": h.name,
            "state": h.state,
            "articles": h.articles,
            "last_article_at": _iso(h.last_article),
            "consecutive_errors": h.consecutive_errors,
            "last_error": h.last_error,
            "last_error_at": _iso(h.last_error_at),
            "last_success_at": _iso(h.last_success),
            "next_fetch_at": _iso(h.next_poll),
        }
        for h in health
    ]

    def count(stmt: Any) -> int:
        return int(session.scalar(stmt) or 0)

    return {
        "generated_at": now.isoformat(),
        "counts": {
            "feeds": len(health),
            "feeds_in_error": sum(1 for h in health if h.state == FeedHealthState.ERROR),
            "articles": count(select(func.count()).select_from(Article)),
            "duplicates": count(
                select(func.count()).select_from(Article).where(Article.duplicate_of_id.is_not(None))
            ),
            "stories": count(select(func.count()).select_from(Story).where(live_story())),
            "topics": count(select(func.count()).select_from(Topic)),
        },
        "runs": last_runs(session),
        "feeds": feed_rows,
        "newsletter": newsletter_status(session),
        "extraction": extraction_status(session),
    }
