"""`aggregator eval related`: "More on this story" lists against editors' lists.

Scores: recall@10, nDCG@10, MRR and precision@10. Production code does the work: profiles from
:mod:`aggregator.terms`, topics from :class:`TopicModel`, ranking from :class:`RelatedIndex`. The articles'
gold ``tags`` are never shown to the engine unless ``use_categories`` is set, which hands them over as
feed categories (as a tagging outlet would), reported separately.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..evaldata import EvalArticle, load_articles, load_packages
from ..related import RelatedIndex, RelatedParams, StoryProfile
from ..terms import article_terms, name_phrases
from ..topics import TopicModel, topic_key
from .ranking import RankingScores

log = logging.getLogger(__name__)

LIST_LENGTH = 100  # ranks scored for MRR; recall, nDCG and precision look at the first 10


@dataclass(frozen=True)
class RelatedEvaluation:
    scores: dict[str, Any]
    articles: int
    anchors: int
    seconds: float


def stand_in_stories(articles: Sequence[EvalArticle]) -> dict[str, list[str]]:
    """LEAD: replace with part A's StoryEngine at merge. Until then every article is its own story."""
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
    by_id = {a.doc.id: a for a in articles}
    stories = stand_in_stories(articles)
    story_of = {member: sid for sid, members in stories.items() for member in members}

    terms = {a.doc.id: article_terms(a.doc.title, a.doc.summary, a.doc.text) for a in articles}
    topics = TopicModel()
    categories: dict[str, tuple[str, ...]] = {}
    if use_categories:
        for a in articles:
            categories[a.doc.id] = tuple(title for _, title in a.tags)
            topics.learn(
                StoryProfile(a.doc.id, terms[a.doc.id], feeds=frozenset({a.doc.feed})), categories[a.doc.id]
            )

    index = RelatedIndex(params)
    profiles: dict[str, StoryProfile] = {}
    for sid, members in stories.items():
        docs = [by_id[m].doc for m in members]
        story_terms: dict[str, float] = {}
        for m in members:
            for t, w in terms[m].items():
                story_terms[t] = story_terms.get(t, 0.0) + w / len(members)
        story_topics: dict[str, float] = {}
        for m in members:
            for label in categories.get(m, ()):
                story_topics[topic_key(label)] = 1.0
            for name in name_phrases(by_id[m].doc.title + ". " + by_id[m].doc.summary):
                key = topic_key(name)
                if topics.known(key):
                    story_topics.setdefault(key, 0.5)
        times = [d.published for d in docs if d.published]
        profile = StoryProfile(
            sid, story_terms, min(times) if times else None, story_topics, frozenset(d.feed for d in docs)
        )
        profiles[sid] = profile
        index.add(profile)

    scores = RankingScores(k=10)
    for anchor, gold in packages:
        if anchor not in by_id:
            log.warning("anchor %s is not in the articles file; skipped", anchor)
            continue
        sid = story_of[anchor]
        ranked = [m for m in stories[sid] if m != anchor]
        for rel in index.related(profiles[sid], LIST_LENGTH):
            ranked.extend(m for m in stories[str(rel.key)] if m != anchor)
        scores.add(ranked[:LIST_LENGTH], gold)
    return RelatedEvaluation(scores.as_dict(), len(articles), scores.queries, time.perf_counter() - start)
