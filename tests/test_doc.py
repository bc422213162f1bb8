"""ArticleDoc: one conversion for stored articles and evaluation files, so both feed the engine alike."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from aggregator.db import Database
from aggregator.evaluation.data import load_articles
from aggregator.stories.doc import article_doc, stored_article_doc

from .conftest import NOW
from .factories import make_article, make_feed


def test_the_conversion() -> None:
    doc = article_doc(
        id="7",
        title="Dam <b>opens</b> &amp; floods",
        summary="<p>The dam opened.</p>",
        content="<p>The dam opened.</p><p>Water rose.</p>",
        published=NOW,
        dated=False,
        outlet="quaynews",
        feed_title="Quay News - World",
        categories=["Weather", " ", 3],
    )
    assert (doc.title, doc.summary, doc.text) == ("Dam opens & floods", "", "The dam opened.\nWater rose.")
    assert (doc.source, doc.feed, doc.categories, doc.dated) == (
        "quaynews",
        "Quay News - World",
        ("Weather",),
        False,
    )
    extracted = article_doc(
        id="8", title="t", summary="Teaser.", content="<p>Teaser.</p>", extracted_text="Page."
    )
    assert (extracted.summary, extracted.text) == ("Teaser.", "Page.")


def test_a_stored_article_and_its_evaluation_row_give_the_same_doc(db: Database, tmp_path: Path) -> None:
    with db.session() as s:
        feed = make_feed(s, "http://127.0.0.1:9/f.xml", title="Quay News", now=NOW)
        article = make_article(
            s, feed, title="Ferries stop", published=NOW - timedelta(hours=1), summary="Crews strike.",
            url="https://quaynews.example/ferries", extracted_text="Crews strike. Ferries stay in port.",
            categories=["Transport"],
        )  # fmt: skip
        stored = stored_article_doc(article, feed)
    row = {
        "id": str(article.id), "title": "Ferries stop", "summary": "Crews strike.",
        "text": "Crews strike. Ferries stay in port.", "published": (NOW - timedelta(hours=1)).isoformat(),
        "dated": True, "source": "Quay News", "url": "https://quaynews.example/ferries",
    }  # fmt: skip
    path = tmp_path / "one.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    (loaded,) = load_articles(path)
    assert loaded.doc == stored.__class__(
        **{**stored.__dict__, "categories": ()}
    )  # files carry no categories
