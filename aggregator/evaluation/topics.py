"""`aggregator eval topics`: inferred topics against editors' keyword tags.

A deterministic half of the articles (first hex digit of sha1(id) below 8) carry their gold tags as feed
categories, as tagging outlets do; the model learns from them (production code: :class:`TopicModel`) and
predicts topics for the other half, which are compared with those articles' gold tags by normalised title
(:func:`aggregator.stories.topics.fold`: accents and case folded, parentheticals dropped, punctuation folded).

Scores are computed twice: with all tags, and without section-level tags. A tag is section-level when its id
has exactly two path parts and they are equal (``world/world``, ``uk/uk``, ``us-news/us-news``): those are
the Guardian's section fronts, not topics. "Without" drops every label that is the title of such a tag from
both the gold tags and the predictions before the top ``k`` are taken.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..stories.topics import TopicModel, article_profile, article_topics, fold
from .data import load_articles

K = 5
CANDIDATES = 20  # predictions asked of the model, so that k remain after section labels are dropped


def is_training(article_id: str) -> bool:
    return hashlib.sha1(article_id.encode("utf-8")).hexdigest()[0] < "8"


def is_section_tag(tag_id: str) -> bool:
    parts = tag_id.split("/")
    return len(parts) == 2 and parts[0] == parts[1]


@dataclass
class TopicScores:
    k: int = K
    articles: int = 0
    hits: int = 0
    predicted: int = 0
    gold: int = 0
    precision_at_k: float = 0.0

    def add(self, predicted: Sequence[str], gold: set[str]) -> None:
        top = list(dict.fromkeys(predicted))[: self.k]
        hits = sum(1 for p in top if p in gold)
        self.articles += 1
        self.hits += hits
        self.predicted += len(top)
        self.gold += len(gold)
        self.precision_at_k += hits / self.k

    def as_dict(self) -> dict[str, float | int]:
        p = self.hits / self.predicted if self.predicted else 0.0
        r = self.hits / self.gold if self.gold else 0.0
        return {
            "micro_p": round(p, 4),
            "micro_r": round(r, 4),
            "micro_f1": round(2 * p * r / (p + r) if p + r else 0.0, 4),
            f"precision_at_{self.k}": round(self.precision_at_k / (self.articles or 1), 4),
            "articles": self.articles,
        }


@dataclass(frozen=True)
class TopicsEvaluation:
    without_sections: dict[str, Any]
    with_sections: dict[str, Any]
    training: int
    seconds: float


def evaluate_topics(articles_path: Path, model: TopicModel | None = None) -> TopicsEvaluation:
    start = time.perf_counter()
    articles = load_articles(articles_path)
    section_labels = {fold(title) for a in articles for tag_id, title in a.tags if is_section_tag(tag_id)}
    model = TopicModel() if model is None else model
    tests = []
    for a in articles:
        if is_training(a.doc.id):
            model.learn(article_profile(a.doc), [title for _, title in a.tags])
        else:
            tests.append(a)
    with_sections = TopicScores()
    without_sections = TopicScores()
    for a in tests:
        topics = article_topics(model, a.doc, article_profile(a.doc), CANDIDATES)
        predicted = [fold(t.label) for t in topics]
        gold = {fold(title) for _, title in a.tags}
        with_sections.add(predicted, gold)
        without_sections.add([p for p in predicted if p not in section_labels], gold - section_labels)
    return TopicsEvaluation(
        without_sections.as_dict(),
        with_sections.as_dict(),
        len(articles) - len(tests),
        time.perf_counter() - start,
    )
