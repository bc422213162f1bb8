"""What the story engine compares: an article's cleaned fields, and its similarities to one story.

:func:`represent` turns an :class:`~aggregator.stories.doc.ArticleDoc` (after feed hygiene) into a
:class:`Rep`: its language, title and body terms, rare names and numbers, and the character 4-grams of its
title. :func:`story_features` gives the similarities of kinds the learned model combines (Miranda et al.,
EMNLP 2018: a TF-IDF similarity per field and for names, time features, and the story's own shape):

- title, body and cross-field cosines to the story's centroids, and the best title cosine and character
  overlap with the story's latest headlines (paraphrases and small edits of one headline);
- names and numbers shared, the article's rare names the story never used, the story's frequent names the
  article does not mention (two earthquakes, two court rulings: conflicting specifics);
- the time since the story's latest and earliest coverage, its size and span, how much of it is from the
  article's own outlet, whether it is in the article's language.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .text import DocumentFrequencies, Vector, cosine, detect_language, key_phrases, normalize, tokenize

if TYPE_CHECKING:
    from .engine import StoryState

TITLE_WEIGHT = 3.0
BODY_WORDS = 400  # the lead carries the event; long tails add background that blurs it
NAME_WORDS = 80  # the lead in which names are looked for
NAME_IDF = 2.5  # names at least this rare (in the learned IDF) are specific enough to tell events apart
GRAM = 4

FEATURES = (
    "title_cos",
    "body_cos",
    "cross_cos",
    "all_cos",
    "title_best",
    "gram_best",
    "names_shared",
    "names_shared_n",
    "names_new",
    "names_missing",
    "numbers_shared",
    "numbers_new",
    "hours_since_last",
    "hours_since_first",
    "undated",
    "story_size",
    "story_span_hours",
    "same_outlet",
    "same_language",
    "title_terms",
    "body_terms",
    "candidate_rank",
    "best_other",
)


@dataclass(frozen=True)
class Rep:
    id: str
    language: str
    title: str  # cleaned
    title_counts: Mapping[str, float]
    body_counts: Mapping[str, float]
    names: frozenset[str]  # stemmed name phrases (one or more words)
    numbers: frozenset[str]
    grams: frozenset[str]
    published: datetime | None
    dated: bool
    outlet: str

    def all_counts(self) -> dict[str, float]:
        counts = {t: TITLE_WEIGHT * c for t, c in self.title_counts.items()}
        for t, c in self.body_counts.items():
            counts[t] = counts.get(t, 0.0) + c
        return counts


def _log_counts(terms: list[str]) -> dict[str, float]:
    return {t: 1.0 + math.log(n) for t, n in Counter(terms).items()}


def title_grams(title: str) -> frozenset[str]:
    flat = normalize(title).replace(" ", "_")
    return frozenset(flat[i : i + GRAM] for i in range(max(1, len(flat) - GRAM + 1)))


def represent(
    doc_id: str,
    title: str,
    body: str,
    *,
    published: datetime | None,
    dated: bool,
    outlet: str,
    language: str | None = None,
) -> Rep:
    lead = " ".join(body.split()[:BODY_WORDS])
    lang = language or detect_language(f"{title}\n{lead[:300]}")
    name_lead = " ".join(lead.split()[:NAME_WORDS])
    phrases = key_phrases(f"{title}\n{name_lead}", lang)
    numbers = frozenset(p for p in phrases if p[:1].isdigit())
    return Rep(
        id=doc_id,
        language=lang,
        title=title,
        title_counts=_log_counts(tokenize(title, lang)),
        body_counts=_log_counts(tokenize(lead, lang)),
        names=frozenset(p for p in phrases if not p[:1].isdigit()),
        numbers=numbers,
        grams=title_grams(title),
        published=published,
        dated=dated,
        outlet=outlet,
    )


def jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


def _hours(a: datetime | None, b: datetime | None) -> float:
    if a is None or b is None:
        return -1.0
    return math.log1p(abs((a - b).total_seconds()) / 3600)


def story_features(
    rep: Rep,
    vectors: tuple[Vector, Vector, Vector],
    story: StoryState,
    df: DocumentFrequencies,
) -> dict[str, float]:
    """Similarities of an article (its weighted ``vectors``: title, body, all) to one candidate story.
    ``candidate_rank`` and ``best_other`` are filled in by the caller, which sees all candidates."""
    title_vec, body_vec, all_vec = vectors
    title_c, body_c, all_c = story.unit_centroids()
    rare = {n for n in rep.names if _name_idf(n, df) >= NAME_IDF}
    weight = sum(_name_idf(n, df) for n in rare)
    shared = {n for n in rare if n in story.names}
    frequent = {n for n, k in story.names.items() if k * 2 >= max(2, story.size)}
    title_best = max((cosine(title_vec, t) for t in story.recent_title_vectors(df)), default=0.0)
    gram_best = max((jaccard(rep.grams, g) for g in story.recent_title_grams()), default=0.0)
    numbers = set(rep.numbers)
    story_numbers = {n for n in story.names if n[:1].isdigit()}
    return {
        "title_cos": cosine(title_vec, title_c),
        "body_cos": cosine(body_vec, body_c),
        "cross_cos": 0.5 * (cosine(title_vec, body_c) + cosine(body_vec, title_c)),
        "all_cos": cosine(all_vec, all_c),
        "title_best": title_best,
        "gram_best": gram_best,
        "names_shared": sum(_name_idf(n, df) for n in shared) / weight if weight else 0.0,
        "names_shared_n": float(len(shared)),
        "names_new": float(len(rare - shared)),
        "names_missing": len(frequent - rep.names) / len(frequent) if frequent else 0.0,
        "numbers_shared": float(len(numbers & story_numbers)),
        "numbers_new": float(len(numbers - story_numbers)) if story_numbers else 0.0,
        "hours_since_last": _hours(rep.published, story.last),
        "hours_since_first": _hours(rep.published, story.first),
        "undated": float(not rep.dated or rep.published is None or story.last is None),
        "story_size": math.log(max(1, story.size)),
        "story_span_hours": _hours(story.first, story.last),
        "same_outlet": story.outlets.get(rep.outlet, 0) / max(1, story.size),
        "same_language": story.languages.get(rep.language, 0) / max(1, story.size),
        "title_terms": float(len(rep.title_counts)),
        "body_terms": math.log1p(len(rep.body_counts)),
        "candidate_rank": 0.0,
        "best_other": 0.0,
    }


def _name_idf(name: str, df: DocumentFrequencies) -> float:
    """A phrase is as rare as its rarest word (a full name is rarer than each of its parts)."""
    return max((df.idf(w) for w in name.split()), default=0.0)
