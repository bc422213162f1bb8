"""`aggregator eval related`: "More on this story" lists against editors' lists.

Scores: recall@10, nDCG@10, MRR and precision@10 of the ranking, and the precision, recall and length of the
list the site would display (``displayed_*``: the storyline model's cut, see :mod:`aggregator.stories.linking`). Production code does the work: article and story profiles
and topics from :mod:`aggregator.stories.topics`, ranking from :class:`RelatedIndex`. The articles' gold ``tags`` are
never shown to the engine unless ``use_categories`` is set, which hands them over as feed categories (as a
tagging outlet would), reported separately.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..config import StoriesConfig
from ..stories.doc import ArticleDoc
from ..stories.linking import StoryLinker, build_links
from ..stories.related import RelatedIndex, RelatedParams, StoryProfile
from ..stories.topics import TopicModel, article_profile, article_topics, story_profile, story_topics
from .data import EvalArticle, load_articles, load_packages, stream_order
from .ranking import RankingScores
from .stories import cluster_articles

log = logging.getLogger(__name__)

LIST_LENGTH = 100  # ranks scored for MRR; recall, nDCG and precision look at the first 10
TOPICS = 10  # topics per article and story handed to the related index
SAME_STORY_FIRST = 5  # reports of the anchor's own event lead its list


@dataclass(frozen=True)
class RelatedEvaluation:
    scores: dict[str, Any]
    articles: int
    anchors: int
    seconds: float


def build_stories(articles: Sequence[EvalArticle], docs: dict[str, ArticleDoc]) -> dict[str, list[str]]:
    """Story id -> member ids in arrival order, from the production story engine (as `aggregator cluster`)."""
    ordered = stream_order(list(articles))
    assigned = cluster_articles(
        [dataclasses.replace(a, doc=docs[a.doc.id]) for a in ordered], StoriesConfig()
    ).stories
    stories: dict[str, list[str]] = {}
    for article in ordered:
        stories.setdefault(str(assigned[article.doc.id]), []).append(article.doc.id)
    return stories


def evaluate_related(
    articles_path: Path,
    packages_path: Path,
    *,
    use_categories: bool = False,
    params: RelatedParams | None = None,
) -> RelatedEvaluation:
    start = time.perf_counter()
    articles = load_articles(articles_path)
    packages = load_packages(packages_path)
    docs = {
        a.doc.id: dataclasses.replace(a.doc, categories=tuple(t for _, t in a.tags) if use_categories else ())
        for a in articles
    }
    stories = build_stories(articles, docs)
    story_of = {member: sid for sid, members in stories.items() for member in members}

    profiles = {doc_id: article_profile(doc) for doc_id, doc in docs.items()}
    model = TopicModel()
    for doc_id, doc in docs.items():
        if doc.categories:
            model.learn(profiles[doc_id], doc.categories)

    # The related index (the production class, fed production profiles) holds every article as a one-article
    # story, so an anchor's list can reach single reports of other stories; the anchor's own story members
    # that the index also finds come first (at most SAME_STORY_FIRST), then the index's ranking.
    index = RelatedIndex(params)
    article_profiles: dict[str, StoryProfile] = {}
    for doc_id, doc in docs.items():
        topics = story_topics([article_topics(model, doc, profiles[doc_id], TOPICS)], TOPICS)
        article_profiles[doc_id] = story_profile(doc_id, [doc], [profiles[doc_id]], topics)
        index.add(article_profiles[doc_id])

    # What the site would display: the storyline lists of the same one-article stories (aggregator.stories.linking),
    # cut at the storyline model's threshold; scored by precision (the share of displayed items the editors
    # listed), recall and length, apart from the ranking figures.
    settings = StoriesConfig()
    linker = StoryLinker(
        build_links({doc_id: [doc] for doc_id, doc in docs.items()}),
        timedelta(days=settings.related_window_days),
        settings.related_count,
    )
    shown = right = 0
    found_share = 0.0

    scores = RankingScores(k=10)
    for anchor, gold in packages:
        if anchor not in docs:
            log.warning("anchor %s is not in the articles file; skipped", anchor)
            continue
        mates = set(stories[story_of[anchor]]) - {anchor}
        found = [
            str(r.key) for r in index.related(article_profiles[anchor], LIST_LENGTH) if str(r.key) != anchor
        ]
        first = [m for m in found if m in mates][:SAME_STORY_FIRST]
        ranked = first + [m for m in found if m not in first]
        scores.add(ranked[:LIST_LENGTH], gold)
        displayed = {str(r.key) for r in linker.lists(anchor)}
        shown += len(displayed)
        right += len(displayed & set(gold))
        found_share += len(displayed & set(gold)) / len(gold) if gold else 0.0
    queries = max(1, scores.queries)
    result = scores.as_dict() | {
        "displayed_precision": round(right / shown, 4) if shown else 1.0,
        "displayed_recall": round(found_share / queries, 4),
        "displayed_shown": round(shown / queries, 4),
    }
    return RelatedEvaluation(result, len(articles), scores.queries, time.perf_counter() - start)
