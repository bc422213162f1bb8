"""ORM tables. Times are stored as naive UTC and come back as aware UTC (see :class:`UTCDateTime`)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    exists,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

from .states import ExtractStatus, FeedStatus, RunOutcome, SendState

URL_LEN = 2048

# Stable constraint names, so migrations can refer to them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database (portable across SQLite and PostgreSQL)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed: datetime = (
            datetime.fromisoformat(value) if isinstance(value, str) else value
        )  # str: raw SQLite
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


E = TypeVar("E", bound=StrEnum)


class EnumString(TypeDecorator[E]):
    """A :class:`StrEnum` stored as its string value in a VARCHAR, and read back as the enum."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> E | None:
        return None if value is None else self.enum(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


class Feed(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(URL_LEN), unique=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    site_url: Mapped[str | None] = mapped_column(String(URL_LEN))
    # The outlet (brand) the feed belongs to, from aggregator.ingest.outlets: set when the feed is stored and
    # after each fetch (from its own title, site and entry links), or taken from feeds[].outlet in the config
    # (outlet_override). Every count of outlets and every outlet name shown comes from these columns.
    outlet_key: Mapped[str] = mapped_column(String(200))
    outlet: Mapped[str] = mapped_column(String(500))
    outlet_override: Mapped[str | None] = mapped_column(String(500))
    # Where the feed came from: "config" feeds follow config.toml; "cli" and "opml" feeds are kept.
    origin: Mapped[str] = mapped_column(String(16), default="cli")
    # For "config" feeds: the URL as written in config.toml (the stored URL may move after redirects).
    config_url: Mapped[str | None] = mapped_column(String(URL_LEN), index=True)
    # None: use [fulltext].default; otherwise "auto", "always" or "never".
    fulltext: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[FeedStatus] = mapped_column(EnumString(FeedStatus), default=FeedStatus.ACTIVE)
    added_at: Mapped[datetime]
    # HTTP validators exactly as received, and a hash of the last body, for change detection.
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(128))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # Schedule and health.
    next_fetch_at: Mapped[datetime | None] = mapped_column(index=True)
    last_fetched_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_errors: Mapped[int] = mapped_column(default=0)
    last_status_code: Mapped[int | None]
    # A permanent redirect target seen on consecutive fetches; the URL moves after enough confirmations.
    redirect_url: Mapped[str | None] = mapped_column(String(URL_LEN))
    redirect_count: Mapped[int] = mapped_column(default=0)


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        UniqueConstraint("feed_id", "guid", name="uq_articles_feed_guid"),
        Index("ix_articles_published", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    guid: Mapped[str] = mapped_column(String(URL_LEN))
    url: Mapped[str | None] = mapped_column(String(URL_LEN))
    canonical_url: Mapped[str | None] = mapped_column(String(URL_LEN), index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")  # as published (HTML): sanitised at output time
    content: Mapped[str] = mapped_column(Text, default="")  # as published (HTML): sanitised at output time
    author: Mapped[str | None] = mapped_column(String(500))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(16))
    image_url: Mapped[str | None] = mapped_column(String(URL_LEN))
    published_at: Mapped[datetime]
    # Whether the feed gave the entry a date; False: published_at is the time it was first fetched.
    dated: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime | None]
    fetched_at: Mapped[datetime]
    # Hash of the entry's fields: an edit by the publisher changes it and updates the row.
    entry_hash: Mapped[str | None] = mapped_column(String(64))
    # No longer written: copies are found by aggregator.stories.copies from the text itself. Kept so that
    # databases of earlier versions need no migration.
    fingerprint: Mapped[str | None] = mapped_column(String(64), index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    duplicate_reason: Mapped[str | None] = mapped_column(String(16))  # "url" or "text"
    # Full-text extraction: status None until decided (see ExtractStatus).
    extracted_text: Mapped[str | None] = mapped_column(Text)
    extract_status: Mapped[ExtractStatus | None] = mapped_column(EnumString(ExtractStatus), index=True)
    extract_attempts: Mapped[int] = mapped_column(default=0)
    extract_error: Mapped[str | None] = mapped_column(Text)
    extract_after: Mapped[datetime | None]
    # Set when the story engine has processed the article; None means still to do.
    clustered_at: Mapped[datetime | None] = mapped_column(index=True)


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)  # stable: the story's URL is built from it
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    first_published_at: Mapped[datetime] = mapped_column(index=True)
    last_published_at: Mapped[datetime] = mapped_column(index=True)
    article_count: Mapped[int] = mapped_column(default=0)
    source_count: Mapped[int] = mapped_column(default=0)
    # The story engine's own representation (term weights, ...), so its index can be rebuilt from the db.
    # Written only by aggregator.stories.cluster.
    engine_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The related-stories stage's cached profile and topics of the story, so that unchanged stories are
    # not read again. Written only by aggregator.stories.links.
    links_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class StoryArticle(Base):
    __tablename__ = "story_articles"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    added_at: Mapped[datetime]
    similarity: Mapped[float] = mapped_column(Float, default=0.0)


def live_story() -> ColumnElement[bool]:
    """The stories shown on the site: not merged into another, and holding at least one article. A story
    whose every article went with a removed feed is *retired*: its row stays, so its page can say so."""
    return and_(
        Story.merged_into_id.is_(None), exists().where(StoryArticle.story_id == Story.id).correlate(Story)
    )


def retired_story() -> ColumnElement[bool]:
    """Stories that are not merged and hold no article (see :func:`live_story`)."""
    return and_(
        Story.merged_into_id.is_(None), ~exists().where(StoryArticle.story_id == Story.id).correlate(Story)
    )


class StoryRelation(Base):
    """The "More on this story" list: ranked related stories."""

    __tablename__ = "story_relations"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    related_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)


class Topic(Base):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # normalised: "ai", "us", ...
    label: Mapped[str] = mapped_column(String(200))  # display form: "Artificial intelligence"
    kind: Mapped[str | None] = mapped_column(String(16))  # person, organisation, place, subject


class StoryTopic(Base):
    """The "Explore more on these topics" list: ranked topic labels of a story."""

    __tablename__ = "story_topics"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(
        ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)


class NewsletterSend(Base):
    """The send ledger: one row per digest period."""

    __tablename__ = "newsletter_sends"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_start: Mapped[datetime]
    period_end: Mapped[datetime] = mapped_column(index=True)
    state: Mapped[SendState] = mapped_column(EnumString(SendState), default=SendState.BUILT)
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    subject: Mapped[str] = mapped_column(Text, default="")
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    story_count: Mapped[int] = mapped_column(default=0)
    message: Mapped[bytes | None] = mapped_column(LargeBinary)  # the exact bytes, so a retry resends the same
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)  # counted when an attempt starts, before connecting
    attempted_at: Mapped[datetime | None]  # when the last attempt started
    last_error: Mapped[str | None] = mapped_column(Text)


class Run(Base):
    """One run of one pipeline step, for `aggregator status`."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    step: Mapped[str] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[RunOutcome] = mapped_column(EnumString(RunOutcome), default=RunOutcome.RUNNING)
    detail: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    owner: Mapped[str | None] = mapped_column(String(300))  # "host:pid" of the process running the step
