"""Database access: engine and sessions (:mod:`.engine`) and the ORM tables (:mod:`.models`)."""

from .engine import Database, check_schema, current_revision, head_revision, upgrade
from .models import (
    Article,
    Base,
    Feed,
    NewsletterSend,
    Run,
    Story,
    StoryArticle,
    StoryRelation,
    StoryTopic,
    Topic,
)
from .states import ExtractStatus, FeedStatus, RunOutcome, SendState

__all__ = [
    "Article",
    "Base",
    "Database",
    "ExtractStatus",
    "Feed",
    "FeedStatus",
    "NewsletterSend",
    "Run",
    "RunOutcome",
    "SendState",
    "Story",
    "StoryArticle",
    "StoryRelation",
    "StoryTopic",
    "Topic",
    "check_schema",
    "current_revision",
    "head_revision",
    "upgrade",
]
