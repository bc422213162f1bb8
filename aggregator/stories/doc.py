"""What the story engine sees of an article: plain data, the same for the database and the evaluation files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ArticleDoc:
    id: str  # the article's id (the database id as a string, or the evaluation file's id)
    title: str
    summary: str = ""  # plain text (HTML already stripped)
    text: str = ""  # plain text body: extracted full text, else the feed's content
    published: datetime | None = None  # aware UTC; None when unknown
    source: str = ""  # the outlet ("BBC News"): copies from one outlet count once
    feed: str = ""  # the feed it came from ("The Guardian: World"), a topical hint
    categories: tuple[str, ...] = ()  # the outlet's own category/tag labels, when it gives them
    url: str | None = None
    language: str | None = None
