"""Feed management: add, remove, list, and keep the database in step with config.toml."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..config import Config, FeedConfig, check_http_url
from ..db.models import URL_LEN, Article, Feed, StoryArticle
from ..db.states import FeedStatus
from ..errors import FeedExistsError, FeedNotFoundError, InvalidFeedURLError
from ..stories.cluster import recount_stories
from .guard import AddressPolicy, URLRefusedError, connect_target
from .limits import FEED_TITLE_MAX, cut
from .outlets import outlet_of

FULLTEXT_MODES = ("auto", "always", "never")


def validate_feed_url(url: str, policy: AddressPolicy | None = None) -> str:
    """``url`` stripped, if the HTTP client can fetch it; with ``policy``, an IP address host (or
    localhost) the policy refuses is refused too. Names are judged by their addresses when fetched."""
    url = url.strip()
    if len(url) > URL_LEN:
        raise InvalidFeedURLError(url[:100] + "...", f"not a feed URL: longer than {URL_LEN} characters")
    problem = check_http_url(url)
    if problem:
        raise InvalidFeedURLError(url, f"not a feed URL: {problem}")
    if policy is not None:
        try:
            connect_target(url, policy)
        except URLRefusedError as e:
            raise InvalidFeedURLError(
                url, f"refused: {e.reason} (see fetch.allow_private_networks and fetch.allowed_networks)"
            ) from None
    return url


def get_feed(session: Session, url: str) -> Feed:
    feed = session.scalar(select(Feed).where(Feed.url == url))
    if feed is None:
        raise FeedNotFoundError(url, "no such feed (see `aggregator feeds list`)")
    return feed


def assign_outlet(feed: Feed, *, own_title: str | None = None, entry_urls: Iterable[str | None] = ()) -> None:
    """Give ``feed`` its outlet: the configured one (``outlet_override``), else the one its own title (the
    stored title when not given), site URL and entry links point to (:func:`aggregator.ingest.outlets.outlet_of`).
    """
    title = own_title if own_title else feed.title
    outlet = outlet_of(title, feed.site_url, entry_urls, override=feed.outlet_override, feed_url=feed.url)
    feed.outlet_key, feed.outlet = outlet.key[:200], outlet.name[:500]


def add_feed(
    session: Session,
    url: str,
    *,
    now: datetime,
    title: str = "",
    fulltext: str | None = None,
    origin: str = "cli",
    outlet: str | None = None,
    policy: AddressPolicy | None = None,
) -> Feed:
    url = validate_feed_url(url, policy)
    if fulltext is not None and fulltext not in FULLTEXT_MODES:
        raise ValueError(f"fulltext must be one of {FULLTEXT_MODES}")
    if session.scalar(select(Feed.id).where(Feed.url == url)) is not None:
        raise FeedExistsError(url, "this feed is already stored")
    feed = Feed(
        url=url,
        title=cut(title.strip(), FEED_TITLE_MAX),
        fulltext=fulltext,
        origin=origin,
        status=FeedStatus.ACTIVE,
        added_at=now,
        outlet_override=outlet or None,
    )
    assign_outlet(feed)  # provisional until the first fetch brings the feed's own title and links
    session.add(feed)
    session.flush()
    return feed


@dataclass(frozen=True)
class RemovedFeed:
    articles: int  # articles deleted with the feed
    stories_updated: int  # stories that kept other articles, recounted
    stories_retired: int  # stories left with no article


def remove_feed(session: Session, url: str, *, config: Config, now: datetime) -> RemovedFeed:
    """Delete a feed and its articles, and bring the stories that held them in step
    (:func:`aggregator.stories.cluster.recount_stories`)."""
    feed = get_feed(session, url)
    count = session.scalar(select(func.count()).select_from(Article).where(Article.feed_id == feed.id)) or 0
    touched = list(
        session.scalars(
            select(StoryArticle.story_id)
            .join(Article, Article.id == StoryArticle.article_id)
            .where(Article.feed_id == feed.id)
            .distinct()
        )
    )
    own = select(Article.id).where(Article.feed_id == feed.id)
    copies = list(session.scalars(select(Article.id).where(Article.duplicate_of_id.in_(own))))
    session.delete(feed)  # the database deletes its articles and their story memberships
    session.flush()
    # Copies of its articles elsewhere are originals now (the database cleared duplicate_of_id): say so.
    for start in range(0, len(copies), 500):
        chunk = copies[start : start + 500]
        session.execute(update(Article).where(Article.id.in_(chunk)).values(duplicate_reason=None))
    recounted = recount_stories(session, touched, config, now)
    return RemovedFeed(count, len(recounted.updated), len(recounted.retired))


def list_feeds(session: Session) -> list[Feed]:
    return list(session.scalars(select(Feed).order_by(Feed.title, Feed.url)))


@dataclass
class SyncResult:
    added: list[str] = field(default_factory=list)
    reactivated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def sync_config_feeds(session: Session, feeds: Iterable[FeedConfig], *, now: datetime) -> SyncResult:
    """Make the stored "config" feeds match config.toml; feeds added from the CLI or OPML are left alone.

    A feed dropped from the config is marked "removed" (kept with its articles, no longer polled), so that
    editing the config never deletes stored news.
    """
    result = SyncResult()
    wanted = {f.url: f for f in feeds}
    stored = list(session.scalars(select(Feed)))
    by_config_url = {f.config_url: f for f in stored if f.config_url}
    by_url = {f.url: f for f in stored}
    for url, cfg in wanted.items():
        feed = by_config_url.get(url) or by_url.get(url)
        if feed is None:
            feed = add_feed(
                session,
                url,
                now=now,
                title=cfg.title,
                fulltext=cfg.fulltext,
                origin="config",
                outlet=cfg.outlet,
            )
            feed.config_url = url
            result.added.append(url)
            continue
        feed.origin, feed.config_url = "config", url
        if cfg.title:
            feed.title = cfg.title
        feed.fulltext = cfg.fulltext
        if (cfg.outlet or None) != feed.outlet_override:
            feed.outlet_override = cfg.outlet or None
            assign_outlet(feed)  # without an override: from the stored title until the next fetch
        if feed.status == FeedStatus.REMOVED:
            feed.status = FeedStatus.ACTIVE
            result.reactivated.append(url)
    for feed in stored:
        if feed.origin == "config" and feed.config_url not in wanted and feed.status != FeedStatus.REMOVED:
            feed.status = FeedStatus.REMOVED
            result.removed.append(feed.url)
    session.flush()
    return result


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    repeated_in_file: list[str] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)


def import_feeds(
    session: Session,
    entries: Iterable[tuple[str, str]],
    *,
    now: datetime,
    policy: AddressPolicy | None = None,
) -> ImportResult:
    """Add (url, title) pairs from an OPML file; duplicates, bad URLs and URLs ``policy`` refuses are
    reported, not fatal."""
    result = ImportResult()
    stored = set(session.scalars(select(Feed.url)))
    seen: set[str] = set()
    for raw_url, title in entries:
        try:
            url = validate_feed_url(raw_url, policy)
        except InvalidFeedURLError as e:
            result.invalid.append((raw_url, e.reason))
            continue
        if url in seen:
            result.repeated_in_file.append(url)
        elif url in stored:
            result.already_stored.append(url)
        else:
            add_feed(session, url, now=now, title=title, origin="opml")
            result.added.append(url)
        seen.add(url)
    return result
