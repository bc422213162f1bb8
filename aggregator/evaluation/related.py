"""`aggregator eval related`: "More on this story" lists against editors' lists.

Scores: recall@10, nDCG@10, MRR and precision@10. Production code does the work: article and story profiles
and topics from :mod:`aggregator.topics`, ranking from :class:`RelatedIndex`. The articles' gold ``tags`` are
never shown to the engine unless ``use_categories`` is set, which hands them over as feed categories (as a
tagging outlet would), reported separately.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..evaldata import EvalArticle, load_articles, load_packages
from ..related import RelatedIndex, RelatedParams, StoryProfile
from ..topics import TopicModel, article_profile, article_topics, story_profile, story_topics
from .ranking import RankingScores

log = logging.getLogger(__name__)

LIST_LENGTH = 100  # ranks scored for MRR; recall, nDCG and precision look at the first 10
TOPICS = 10  # topics per article and story handed to the related index


@dataclass(frozen=True)
class RelatedEvaluation:
    scores: dict[str, Any]
    articles: int
    anchors: int
    seconds: float


def stand_in_stories(articles: Sequence[EvalArticle]) -> dict[str, list[str]]:
    """LEAD: replace with part A's StoryEngine at merge (story id -> member ids, in arrival order).
    Until then every article is its own story."""
    return {a.doc.id: [a.doc.id] for a in articles}


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
    stories = stand_in_stories(articles)
    story_of = {member: sid for sid, members in stories.items() for member in members}

    profiles = {doc_id: article_profile(doc) for doc_id, doc in docs.items()}
    model = TopicModel()
    for doc_id, doc in docs.items():
        if doc.categories:
            model.learn(profiles[doc_id], doc.categories)

    index = RelatedIndex(params)
    story_profiles: dict[str, StoryProfile] = {}
    for sid, members in stories.items():
        member_docs = [docs[m] for m in members]
        member_profiles = [profiles[m] for m in members]
        topics = story_topics(
            [article_topics(model, d, p, TOPICS) for d, p in zip(member_docs, member_profiles, strict=True)],
            TOPICS,
        )
        story_profiles[sid] = story_profile(sid, member_docs, member_profiles, topics)
        index.add(story_profiles[sid])

    scores = RankingScores(k=10)
    for anchor, gold in packages:
        if anchor not in docs:
            log.warning("anchor %s is not in the articles file; skipped", anchor)
            continue
        sid = story_of[anchor]
        ranked = [m for m in stories[sid] if m != anchor]  # the anchor's own story first
        for rel in index.related(story_profiles[sid], LIST_LENGTH):
            ranked.extend(m for m in stories[str(rel.key)] if m != anchor)
        scores.add(ranked[:LIST_LENGTH], gold)
    return RelatedEvaluation(scores.as_dict(), len(articles), scores.queries, time.perf_counter() - start)
