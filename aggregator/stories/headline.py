"""Which article heads a story: its headline and summary follow the coverage. Pure: no database, no clock.

    members (id, title, summary, text, published, url) + the current lead's id
      -> candidates: the news members (kinds.item_kind), or every member when none is news
      -> score = centrality * freshness * substance
           centrality: mean cosine similarity of the member's title+summary terms to the other members'
           freshness:  FRESH_FLOOR + (1 - FRESH_FLOOR) * 0.5 ** (hours behind the newest member / HALF_LIFE)
           substance:  words of summary and text up to FULL_WORDS (a video blurb scores less than a report)
      -> the best candidate, unless the current lead is still a candidate and the best beats it by less than
         MARGIN (the page does not flicker between near-equal articles)

Time is relative to the newest member, never the clock, so the same members always give the same lead.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .doc import ArticleDoc
from .kinds import ItemKind, item_kind
from .terms import article_terms

__all__ = ["HALF_LIFE_HOURS", "MARGIN", "LeadCandidate", "choose_lead", "headline_of", "lead_scores"]

HALF_LIFE_HOURS = 24.0
FRESH_FLOOR = 0.4  # an old article keeps this share of its freshness: centrality still counts
FULL_WORDS = 60  # summary + text words at which an article counts as a full report
MIN_SUBSTANCE = 0.3
MARGIN = 0.15  # a new lead must score this much (relatively) above the current one


@dataclass(frozen=True)
class LeadCandidate:
    id: int | str
    title: str
    summary: str = ""  # plain text
    text: str = ""  # plain text body, when known
    published: datetime | None = None
    url: str | None = None

    @classmethod
    def of(cls, doc: ArticleDoc) -> LeadCandidate:
        return cls(doc.id, doc.title, doc.summary, doc.text, doc.published, doc.url)


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b.get(t, 0.0) for t, w in a.items())
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


def lead_scores(members: Sequence[LeadCandidate]) -> dict[int | str, float]:
    """Each candidate's score (see the module docstring); non-news members are left out when a news member
    exists."""
    kinds = {m.id: item_kind(m.title, m.summary, m.url) for m in members}
    news = [m for m in members if kinds[m.id] is ItemKind.NEWS]
    candidates = news or list(members)
    terms = {m.id: article_terms(m.title, m.summary) for m in members}
    times = [m.published for m in members if m.published is not None]
    newest = max(times) if times else None
    scores: dict[int | str, float] = {}
    for m in candidates:
        others = [_cosine(terms[m.id], terms[o.id]) for o in members if o.id != m.id]
        centrality = sum(others) / len(others) if others else 1.0
        if newest is not None and m.published is not None:
            hours = max(0.0, (newest - m.published).total_seconds() / 3600)
            freshness = FRESH_FLOOR + (1 - FRESH_FLOOR) * 0.5 ** (hours / HALF_LIFE_HOURS)
        else:
            freshness = FRESH_FLOOR
        words = len(m.summary.split()) + len(m.text.split())
        substance = max(MIN_SUBSTANCE, min(1.0, words / FULL_WORDS))
        scores[m.id] = centrality * freshness * substance
    return scores


def choose_lead(
    members: Sequence[LeadCandidate], current_lead_id: int | str | None = None
) -> int | str | None:
    """The id of the article whose headline and summary the story shows; None for no members."""
    if not members:
        return None
    scores = lead_scores(members)
    order = {m.id: (m.published.timestamp() if m.published else -math.inf, str(m.id)) for m in members}
    best = max(scores, key=lambda i: (scores[i], order[i]))
    current = scores.get(current_lead_id) if current_lead_id is not None else None
    if current is not None and scores[best] <= current * (1 + MARGIN):
        return current_lead_id
    return best


def headline_of(originals: Sequence[ArticleDoc], current_title: str) -> ArticleDoc | None:
    """The lead among a story's original articles, the current lead being the one titled ``current_title``
    (the story row keeps its lead's title, so no other state is needed)."""
    current = next((d.id for d in originals if d.title == " ".join(current_title.split())), None)
    lead = choose_lead([LeadCandidate.of(d) for d in originals], current)
    return next((d for d in originals if d.id == lead), None)
