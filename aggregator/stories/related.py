""" "More on this story": rank the stories related to a story, from an incremental index. Pure: no I/O.

Each story is a :class:`StoryProfile`: weighted terms (words and ``@name`` phrases of its articles), topic
keys (feed categories and inferred topics, see :mod:`aggregator.stories.topics`), its time and the feeds it came from.
:class:`RelatedIndex` keeps an inverted index over the profiles' terms and topics, so a query touches only the
stories that share a distinctive term with it, never every stored story.

The score of a candidate story ``d`` for a story ``q``::

    text  = cosine(tf-idf(q), tf-idf(d))               # words and names, idf from the index itself
    topic = cosine(topics(q), topics(d))               # topic keys, idf-weighted
    score = (text + topic_weight * topic)
            * (1 + near_boost * exp(-|dt| / near_days) + far_boost * exp(-|dt| / far_days))
            * (1 + feed_boost if they share a feed)

Editors' related lists mix same-day follow-ups with reports weeks apart (half the Guardian's links are
within a day of the anchor, 18% more than a week away), so the time prior is a sum of a short and a long
decay on top of a floor: content decides, recency breaks ties. Stories beyond ``window`` are not considered.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

StoryKey = int | str


@dataclass(frozen=True)
class StoryProfile:
    """What the related-story index knows of one story."""

    key: StoryKey
    terms: Mapping[str, float]  # weighted term counts: words and "@name" phrases
    time: datetime | None = None  # a representative time (first publication), aware UTC
    topics: Mapping[str, float] = field(default_factory=dict)  # topic key -> confidence in 0..1
    feeds: frozenset[str] = frozenset()  # the feeds its articles came from: a topical hint


@dataclass(frozen=True)
class RelatedParams:
    """The ranking's knobs; the defaults are the one configuration used for every data set."""

    window: timedelta | None = timedelta(days=60)
    topic_weight: float = 0.5
    near_boost: float = 3.0
    near_days: float = 2.0
    far_boost: float = 0.3
    far_days: float = 30.0
    feed_boost: float = 0.2
    # Text + topic similarity a story needs before time and feed can lift it: a small or quiet store would
    # otherwise fill a list with whatever was published the same day (costs 0.005 recall@10 on the Guardian set).
    min_content: float = 0.05
    query_terms: int = 60  # the query's strongest terms that may bring in candidates
    max_df_fraction: float = 0.05  # terms in more stories than this only score candidates found otherwise
    min_df_for_cap: int = 200  # ... unless the index is small
    max_postings: int = 2000  # ... and never more: the cost of a query stays flat as the index grows
    candidates: int = 1000  # best candidates by their distinctive terms that get a full score
    refine_terms: int = 200  # the query's strongest terms that make up that score


@dataclass(frozen=True)
class Related:
    key: StoryKey
    score: float


@dataclass
class _Entry:
    profile: StoryProfile
    tf: dict[str, float]  # log-scaled term frequencies
    topics: dict[str, float]
    norm: float = 0.0
    norm_n: int = 0  # index size when ``norm`` was computed (idf drifts as the index grows)
    topic_norm: float = 0.0
    topic_norm_n: int = 0


def _log_tf(weights: Mapping[str, float]) -> dict[str, float]:
    return {t: 1.0 + math.log(w) if w >= 1.0 else w for t, w in weights.items() if w > 0}


class RelatedIndex:
    """An incremental inverted index of story profiles answering "which stories relate to this one?"."""

    def __init__(self, params: RelatedParams | None = None) -> None:
        self.params = params or RelatedParams()
        self._entries: dict[StoryKey, _Entry] = {}
        self._postings: dict[str, dict[StoryKey, float]] = {}
        self._topic_postings: dict[str, dict[StoryKey, float]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def add(self, profile: StoryProfile) -> None:
        """Add a story, or replace what the index knows of it (stories grow as articles join)."""
        self.remove(profile.key)
        entry = _Entry(profile, _log_tf(profile.terms), {t: w for t, w in profile.topics.items() if w > 0})
        self._entries[profile.key] = entry
        for term, w in entry.tf.items():
            self._postings.setdefault(term, {})[profile.key] = w
        for topic, w in entry.topics.items():
            self._topic_postings.setdefault(topic, {})[profile.key] = w

    def remove(self, key: StoryKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for term in entry.tf:
            self._drop(self._postings, term, key)
        for topic in entry.topics:
            self._drop(self._topic_postings, topic, key)

    @staticmethod
    def _drop(postings: dict[str, dict[StoryKey, float]], term: str, key: StoryKey) -> None:
        bucket = postings.get(term)
        if bucket is not None:
            bucket.pop(key, None)
            if not bucket:
                del postings[term]

    def profile(self, key: StoryKey) -> StoryProfile | None:
        entry = self._entries.get(key)
        return entry.profile if entry else None

    def _idf(self, postings: dict[str, dict[StoryKey, float]], term: str) -> float:
        df = len(postings.get(term, ()))
        return math.log((len(self._entries) + 1) / (df + 0.5))

    def _norm(self, entry: _Entry) -> float:
        n = len(self._entries)
        if entry.norm_n == 0 or n > entry.norm_n * 1.1:
            entry.norm = (
                math.sqrt(sum((w * self._idf(self._postings, t)) ** 2 for t, w in entry.tf.items())) or 1.0
            )
            entry.norm_n = n
        return entry.norm

    def _topic_norm(self, entry: _Entry) -> float:
        n = len(self._entries)
        if entry.topic_norm_n == 0 or n > entry.topic_norm_n * 1.1:
            entry.topic_norm = (
                math.sqrt(sum((w * self._idf(self._topic_postings, t)) ** 2 for t, w in entry.topics.items()))
                or 1.0
            )
            entry.topic_norm_n = n
        return entry.topic_norm

    def related(self, profile: StoryProfile, count: int, exclude: Iterable[StoryKey] = ()) -> list[Related]:
        """The ``count`` best stories for ``profile`` (itself and ``exclude`` left out), best first."""
        p = self.params
        skip = set(exclude)
        skip.add(profile.key)
        n = len(self._entries)
        cap = min(p.max_postings, max(p.min_df_for_cap, int(p.max_df_fraction * n)))

        text = self._match(self._postings, _log_tf(profile.terms), cap, skip)
        topics = self._match(
            self._topic_postings, {t: w for t, w in profile.topics.items() if w > 0}, cap, skip
        )
        q_norm = self._query_norm(self._postings, _log_tf(profile.terms))
        q_topic_norm = self._query_norm(self._topic_postings, profile.topics)

        scored: list[tuple[float, str, StoryKey]] = []
        for key in set(text) | set(topics):
            entry = self._entries[key]
            other = entry.profile
            dt = _days_apart(profile.time, other.time)
            if p.window is not None and dt is not None and dt > p.window.total_seconds() / 86400:
                continue
            score = text.get(key, 0.0) / (q_norm * self._norm(entry))
            if key in topics:
                score += p.topic_weight * topics[key] / (q_topic_norm * self._topic_norm(entry))
            if score < p.min_content:
                continue  # recency alone never makes a story related
            if dt is not None:
                score *= (
                    1.0
                    + p.near_boost * math.exp(-dt / p.near_days)
                    + p.far_boost * math.exp(-dt / p.far_days)
                )
            if profile.feeds & other.feeds:
                score *= 1.0 + p.feed_boost
            scored.append((score, str(key), key))
        best = heapq.nlargest(count, scored, key=lambda s: (s[0], s[1]))
        return [Related(key, score) for score, _, key in best]

    def _query_norm(self, postings: dict[str, dict[StoryKey, float]], weights: Mapping[str, float]) -> float:
        return math.sqrt(sum((w * self._idf(postings, t)) ** 2 for t, w in weights.items())) or 1.0

    def _match(
        self,
        postings: dict[str, dict[StoryKey, float]],
        query: Mapping[str, float],
        cap: int,
        skip: set[StoryKey],
    ) -> dict[StoryKey, float]:
        """Dot products of the query with the stories sharing its terms: rare terms find candidates, common
        terms only add to candidates already found (so a query never walks a huge posting list)."""
        weighted = []
        for term, w in query.items():
            bucket = postings.get(term)
            if bucket:
                idf = self._idf(postings, term)
                weighted.append((w * idf * idf, term, bucket))
        weighted.sort(key=lambda x: (-x[0], x[1]))
        seeds = [x for x in weighted if len(x[2]) <= cap][: self.params.query_terms]
        seed_terms = {x[1] for x in seeds}
        acc: dict[StoryKey, float] = {}
        for weight, _, bucket in seeds:
            for key, w in bucket.items():
                if key not in skip:
                    acc[key] = acc.get(key, 0.0) + weight * w
        if len(acc) > self.params.candidates:
            keep = heapq.nlargest(self.params.candidates, acc.items(), key=lambda kv: (kv[1], str(kv[0])))
            acc = dict(keep)
        for weight, term, bucket in weighted[: self.params.refine_terms]:
            if term in seed_terms:
                continue
            if len(bucket) < len(acc):
                for key, w in bucket.items():
                    if key in acc:
                        acc[key] += weight * w
            else:
                for key in acc:
                    found = bucket.get(key)
                    if found is not None:
                        acc[key] += weight * found
        return acc


def _days_apart(a: datetime | None, b: datetime | None) -> float | None:
    if a is None or b is None:
        return None
    return abs((a - b).total_seconds()) / 86400


def merge_terms(parts: Iterable[Mapping[str, float]]) -> dict[str, float]:
    """A story's terms: the mean of its articles' term weights (so a big story does not drown a small one)."""
    total: dict[str, float] = {}
    n = 0
    for part in parts:
        n += 1
        for term, w in part.items():
            total[term] = total.get(term, 0.0) + w
    return {t: w / n for t, w in total.items()} if n else {}
