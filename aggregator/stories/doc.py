"""What the story engine sees of an article: plain data, built the same way for the database and the
evaluation files (:func:`article_doc`), so production and evaluation feed the engine identically."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from ..sanitize import html_to_text

if TYPE_CHECKING:  # read, never imported at run time: this module stays free of the database
    from ..db.models import Article, Feed


@dataclass(frozen=True)
class ArticleDoc:
    id: str  # the article's id (the database id as a string, or the evaluation file's id)
    title: str
    summary: str = ""  # plain text (HTML already stripped)
    text: str = ""  # plain text body: extracted full text, else the feed's content
    published: datetime | None = None  # aware UTC; None when unknown
    source: str = ""  # the outlet's key (aggregator.ingest.outlets): one outlet's copies count once
    feed: str = ""  # the feed it came from ("The Guardian: World"), a topical hint
    categories: tuple[str, ...] = ()  # the outlet's own category/tag labels, when it gives them
    url: str | None = None
    language: str | None = None
    dated: bool = True  # False when the feed gave no date and ``published`` is when it was first fetched


def article_doc(
    *,
    id: str,
    title: str,
    summary: str = "",
    content: str = "",
    extracted_text: str | None = None,
    published: datetime | None = None,
    dated: bool = True,
    outlet: str = "",
    feed_title: str = "",
    categories: Iterable[object] = (),
    url: str | None = None,
    language: str | None = None,
) -> ArticleDoc:
    """An article as the engine sees it, from its fields: ``title``, ``summary`` and ``content`` as published
    (HTML or plain text), ``extracted_text`` the page's main text when it was fetched (preferred to the
    content), ``outlet`` the outlet's key and ``feed_title`` its feed's title.

    A summary the text starts with is dropped: feeds often repeat it as the content's first paragraph.
    """
    text = extracted_text or html_to_text(content)
    plain_summary = html_to_text(summary)
    if plain_summary and text.startswith(plain_summary):
        plain_summary = ""
    return ArticleDoc(
        id=id,
        title=html_to_text(title),
        summary=plain_summary,
        text=text,
        published=published,
        source=outlet,
        feed=feed_title,
        categories=tuple(c for c in categories if isinstance(c, str) and c.strip()),
        url=url,
        language=language,
        dated=dated,
    )


def stored_article_doc(article: Article, feed: Feed) -> ArticleDoc:
    """:func:`article_doc` of a stored article (the clustering and related-stories steps)."""
    return article_doc(
        id=str(article.id),
        title=article.title,
        summary=article.summary,
        content=article.content,
        extracted_text=article.extracted_text,
        published=article.published_at,
        dated=article.dated,
        outlet=feed.outlet_key,
        feed_title=feed.title,
        categories=article.categories or (),
        url=article.url,
        language=article.language,
    )
