"""How much of each field of an entry is stored: publishers' feeds are not trusted to be sane.

A 2 MB title would otherwise be stored whole, then printed on every page and in every email that lists
its story. Entries are cut to these lengths where they are parsed (:mod:`aggregator.ingest.parse`) and
pages' text where it is extracted (:mod:`aggregator.fulltext.extract`), so nothing later sees more.
"""

from __future__ import annotations

URL_MAX = 2048  # longer links and image URLs are dropped, not cut (a cut URL points elsewhere)
TITLE_MAX = 1000
SUMMARY_MAX = 20_000  # HTML as published; the sanitiser copes with a tag cut in half
CONTENT_MAX = 200_000
AUTHOR_MAX = 500
CATEGORY_MAX = 200
CATEGORIES_MAX = 50
EXTRACTED_TEXT_MAX = 200_000
FEED_TITLE_MAX = 500


def cut(text: str, limit: int) -> str:
    """``text`` if it fits, else its first ``limit - 1`` characters and an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fitting_url(url: str | None) -> str | None:
    """``url`` unless it is longer than :data:`URL_MAX`."""
    return url if url is not None and len(url) <= URL_MAX else None
