"""Feed health: the one account of how each feed is doing, for `aggregator status` and the sources page.

feeds + their article counts and latest article -> FeedHealth (state, errors, last success, next poll)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import Article, Feed
from ..db.states import FeedStatus
from ..sanitize import safe_url


class FeedHealthState(StrEnum):
    OK = "ok"  # its last fetch succeeded
    NEW = "new"  # never fetched successfully, and no error yet
    ERROR = "error"  # its last fetch failed (``consecutive_errors`` in a row)
    GONE = "gone"  # answered 410: not polled
    REMOVED = "removed"  # dropped from config.toml: not polled


@dataclass(frozen=True)
class FeedHealth:
    """One feed's health: enough to tell a dead feed from a quiet one."""

    id: int
    url: str  # as stored; :attr:`feed_link` for a link
    title: str  # as stored (may be empty); :attr:`name` to show
    name: str  # its title, else its host
    site_url: str | None
    state: FeedHealthState
    articles: int
    last_article: datetime | None
    last_success: datetime | None
    last_error_at: datetime | None
    last_error: str | None
    consecutive_errors: int
    next_poll: datetime | None  # None when the feed is not polled (gone or removed)

    @property
    def feed_link(self) -> str | None:
        """The feed's URL if it is http(s): safe as a link."""
        return safe_url(self.url)

    @property
    def site_link(self) -> str | None:
        return safe_url(self.site_url)


def feed_state(feed: Feed) -> FeedHealthState:
    if feed.status != FeedStatus.ACTIVE:
        return FeedHealthState(FeedStatus(feed.status).value)
    if feed.consecutive_errors:
        return FeedHealthState.ERROR
    if feed.last_success_at is None:
        return FeedHealthState.NEW
    return FeedHealthState.OK


def feed_name(feed: Feed) -> str:
    """A feed's display name: its title, else its host."""
    if feed.title.strip():
        return feed.title.strip()
    return urlsplit(feed.site_url or feed.url).hostname or feed.url


def feed_health(session: Session) -> list[FeedHealth]:
    """Every feed's health, by title then URL."""
    stats = {
        fid: (count, last)
        for fid, count, last in session.execute(
            select(Article.feed_id, func.count(), func.max(Article.published_at)).group_by(Article.feed_id)
        )
    }
    result = []
    for f in session.scalars(select(Feed).order_by(Feed.title, Feed.url)):
        count, last = stats.get(f.id, (0, None))
        if isinstance(last, str):  # func.max bypasses the column type on SQLite
            last = datetime.fromisoformat(last)
        if last is not None and last.tzinfo is None:
            last = last.replace(tzinfo=UTC)
        result.append(
            FeedHealth(
                id=f.id,
                url=f.url,
                title=f.title,
                name=feed_name(f),
                site_url=f.site_url,
                state=feed_state(f),
                articles=count,
                last_article=last,
                last_success=f.last_success_at,
                last_error_at=f.last_error_at,
                last_error=f.last_error,
                consecutive_errors=f.consecutive_errors,
                next_poll=f.next_fetch_at if f.status == FeedStatus.ACTIVE else None,
            )
        )
    return result
