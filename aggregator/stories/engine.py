"""Pure incremental story clustering: does an arriving article join a story, or start its own?

Being alone is the default; joining needs evidence. Data flow of :meth:`StoryEngine.add` (no database,
no clock: time is the article's own)::

    doc -> feed hygiene (the feed's recurring title segments and summary runs removed)
        -> non-news kind (live blog, round-up, explainer, podcast, promo ...) -> a story of its own, never a
           candidate for later articles
        -> copy? (near-identical title and cleaned text, any outlet, within the time window) -> the
           original's story, ``duplicate_of`` set
        -> Rep: language, title / body terms, rare names and numbers, title character 4-grams
        -> candidate stories from an inverted index over open stories' top terms (capped postings)
        -> story_features per candidate -> the learned model's probability of "same event"
        -> join the most probable story if it reaches the model's threshold, else start a new story

Why: on real feeds most items are the only report of their event, and a false join (a blob, a channel
story) costs the reader more than a miss. The model (:mod:`aggregator.stories.model`) weighs similarities
of several kinds, learned from the labelled sets, instead of hand-set bars; see scripts/train_story_model.py.

Bounded and deterministic: a story's centroids are capped in terms and weigh recent members more once a
story is large (``CENTROID_MEMORY``), so a long-running story never drifts into a topic; candidates come
from posting lists capped at ``MAX_POSTINGS`` and only ``MAX_CANDIDATES`` are scored; stories leave the
index after ``max_gap_days`` without coverage or when more than ``max_open_stories`` are open. Document
frequencies and feed profiles come from :meth:`StoryEngine.observe`, which callers give the whole batch
about to be clustered before adding its articles (the same in production and in evaluation). Story ids come
from a counter the caller seeds, so they are stable.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..config import StoriesConfig
from .copies import CopyIndex, CopyText
from .doc import ArticleDoc
from .features import BODY_WORDS, Rep, represent, story_features, title_grams
from .hygiene import Cleaned, FeedHygiene
from .kinds import NON_NEWS, item_kind
from .model import JoinModel, default_model
from .text import DocumentFrequencies, Vector, detect_language, normalized, tokenize, top_terms

STATE_VERSION = 3
TITLE_TERMS = 40  # terms kept per centroid
BODY_TERMS = 150
ALL_TERMS = 200
INDEX_TERMS = 25  # a story's terms in the candidate index
QUERY_TERMS = 15
MAX_POSTINGS = 150
MAX_CANDIDATES = 12
MAX_NAMES = 120
RECENT_TITLES = 5
CLUSTER_BATCH = 500  # articles observed together before each is added (`aggregator cluster`'s batch)
# Once a story has this many members, older members' weight in its centroids decays (a moving average of
# about this many): what the story is about now, not everything it ever touched.
CENTROID_MEMORY = 20


@dataclass(frozen=True)
class Assignment:
    """The engine's decision for one article."""

    article_id: str
    story_id: int  # the story the article is in now
    new_story: bool  # a story was started for this article
    similarity: float  # the model's probability for the story joined (1.0 for a new story)
    duplicate_of: str | None = None  # the original's article id when the article is a copy
    created: int | None = None  # the id of the story started for this article


@dataclass
class StoryState:
    """What the engine keeps of a story; :meth:`to_json` is stored in ``Story.engine_state``."""

    id: int
    title: dict[str, float] = field(default_factory=dict)  # decayed sums of member vectors, top terms
    body: dict[str, float] = field(default_factory=dict)
    all: dict[str, float] = field(default_factory=dict)
    size: int = 0
    first: datetime | None = None
    last: datetime | None = None
    names: dict[str, int] = field(default_factory=dict)  # rare names and numbers -> members naming them
    outlets: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    titles: list[str] = field(default_factory=list)  # the latest members' cleaned titles
    closed: bool = False  # a non-news item's story: never a candidate
    _units: tuple[Vector, Vector, Vector] | None = None
    _title_counts: list[dict[str, float]] | None = None
    _title_vectors: list[Vector] | None = None
    _title_grams: list[frozenset[str]] | None = None

    def unit_centroids(self) -> tuple[Vector, Vector, Vector]:
        if self._units is None:
            self._units = (normalized(self.title), normalized(self.body), normalized(self.all))
        return self._units

    def recent_title_counts(self) -> list[dict[str, float]]:
        if self._title_counts is None:
            language = max(self.languages, key=lambda k: (self.languages[k], k)) if self.languages else "en"
            self._title_counts = [dict.fromkeys(tokenize(t, language), 1.0) for t in self.titles]
        return self._title_counts

    def recent_title_grams(self) -> list[frozenset[str]]:
        if self._title_grams is None:
            self._title_grams = [title_grams(t) for t in self.titles]
        return self._title_grams

    def recent_title_vectors(self, df: DocumentFrequencies) -> list[Vector]:
        """The latest headlines' TF-IDF vectors, weighed when first asked for after a change."""
        if self._title_vectors is None:
            self._title_vectors = [df.weigh(c) for c in self.recent_title_counts()]
        return self._title_vectors

    def absorb(self, rep: Rep, vectors: tuple[Vector, Vector, Vector]) -> None:
        decay = 1.0 - 1.0 / CENTROID_MEMORY if self.size >= CENTROID_MEMORY else 1.0
        for centroid, vector, keep in zip(
            (self.title, self.body, self.all), vectors, (TITLE_TERMS, BODY_TERMS, ALL_TERMS), strict=True
        ):
            for term in centroid:
                centroid[term] *= decay
            for term, weight in vector.items():
                centroid[term] = centroid.get(term, 0.0) + weight
            if len(centroid) > keep:
                kept = set(top_terms(centroid, keep))
                for term in [t for t in centroid if t not in kept]:
                    del centroid[term]
        self.size += 1
        if rep.published is not None:
            self.first = min(self.first or rep.published, rep.published)
            self.last = max(self.last or rep.published, rep.published)
        for name in rep.names | rep.numbers:
            self.names[name] = self.names.get(name, 0) + 1
        if len(self.names) > MAX_NAMES:
            self.names = dict(sorted(self.names.items(), key=lambda kv: (-kv[1], kv[0]))[:MAX_NAMES])
        self.outlets[rep.outlet] = self.outlets.get(rep.outlet, 0) + 1
        self.languages[rep.language] = self.languages.get(rep.language, 0) + 1
        self.titles = [*self.titles, rep.title][-RECENT_TITLES:]
        self._units = None
        self._title_counts = None
        self._title_vectors = None
        self._title_grams = None

    def index_terms(self) -> list[str]:
        return top_terms(self.all, INDEX_TERMS)

    def to_json(self) -> dict[str, Any]:
        def rounded(v: Mapping[str, float]) -> dict[str, float]:
            return {t: round(w, 5) for t, w in v.items()}

        return {
            "v": STATE_VERSION,
            "title": rounded(self.title),
            "body": rounded(self.body),
            "all": rounded(self.all),
            "size": self.size,
            "names": dict(self.names),
            "outlets": dict(self.outlets),
            "languages": dict(self.languages),
            "titles": list(self.titles),
            "closed": self.closed,
        }

    @classmethod
    def from_json(
        cls, story_id: int, data: Mapping[str, Any], first: datetime | None, last: datetime | None
    ) -> StoryState | None:
        """The stored state, or None when it is of an older engine (that story stays as it is, closed)."""
        if not isinstance(data, Mapping) or data.get("v") != STATE_VERSION:
            return None

        def floats(key: str) -> dict[str, float]:
            return {str(t): float(w) for t, w in dict(data.get(key) or {}).items()}

        def ints(key: str) -> dict[str, int]:
            return {str(t): int(n) for t, n in dict(data.get(key) or {}).items()}

        return cls(
            id=story_id,
            title=floats("title"),
            body=floats("body"),
            all=floats("all"),
            size=int(data.get("size") or 0),
            first=first,
            last=last,
            names=ints("names"),
            outlets=ints("outlets"),
            languages=ints("languages"),
            titles=[str(t) for t in data.get("titles") or []][-RECENT_TITLES:],
            closed=bool(data.get("closed")),
        )


class StoryEngine:
    """Assigns each arriving article to a story (see the module docstring)."""

    def __init__(
        self, settings: StoriesConfig | None = None, *, next_story_id: int = 1, model: JoinModel | None = None
    ) -> None:
        self.settings = settings or StoriesConfig()
        self.window = timedelta(hours=self.settings.time_window_hours)
        self.max_gap = timedelta(days=self.settings.max_gap_days)
        self.model = model or default_model()
        given = self.settings.join_probability
        self.threshold = self.model.threshold if given is None else given
        self.df = DocumentFrequencies()
        self.hygiene = FeedHygiene()
        self.copies = CopyIndex(self.window)
        self.stories: dict[int, StoryState] = {}
        self._observed: dict[str, None] = {}
        self._languages: dict[str, str] = {}
        # term -> story ids, least recently updated first, capped at MAX_POSTINGS per term.
        self._postings: dict[str, dict[int, None]] = {}
        self._indexed: dict[int, list[str]] = {}
        self._expiry: list[tuple[datetime, int]] = []
        self._next_id = next_story_id
        self._clock: datetime | None = None

    # -- what the engine learns before deciding ----------------------------------------------------

    def observe(self, doc: ArticleDoc) -> None:
        """Count an article (once per id) in its feed's profile and in the document frequencies: every
        article of a batch is observed before the batch is clustered, and recent clustered articles are
        observed again when an engine is rebuilt."""
        if doc.id in self._observed:
            return
        self._observed[doc.id] = None
        if len(self._observed) > 4 * self.settings.idf_articles:
            for old in list(self._observed)[: len(self._observed) // 2]:
                del self._observed[old]
        self.hygiene.observe(doc.id, doc.feed, doc.title, doc.summary)
        language = self._language(doc)
        lead = " ".join(f"{doc.summary}\n{doc.text}".split()[:BODY_WORDS])
        self.df.add(tokenize(f"{doc.title}\n{lead}", language))

    def learn_terms(self, doc: ArticleDoc, story_id: int | None = None, copy_of: str | None = None) -> None:
        """An already clustered article (rebuilding the engine): observed, and a possible original of later
        copies when its story is known (a copy under ``copy_of``, its original's id)."""
        self.observe(doc)
        if story_id is not None:
            cleaned = self.hygiene.clean(doc.feed, doc.title, doc.summary, doc.text)
            news = item_kind(doc.title, doc.summary, doc.url) not in NON_NEWS
            self.copies.add(doc.id, story_id, _copy_text(doc, cleaned, news), original=copy_of)

    def restore_story(self, state: StoryState) -> None:
        self.stories.pop(state.id, None)
        self.stories[state.id] = state  # callers restore the least recently updated first
        self._next_id = max(self._next_id, state.id + 1)
        if not state.closed:
            self._reindex(state)
        if state.last is not None:
            heapq.heappush(self._expiry, (state.last, state.id))
            self._clock = max(self._clock or state.last, state.last)

    def note_coverage(self, story_id: int, when: datetime | None) -> None:
        """An article placed in a story without the engine (a URL copy, an edited article)."""
        story = self.stories.get(story_id)
        if story is not None and when is not None:
            story.first = min(story.first or when, when)
            story.last = max(story.last or when, when)
            self._bump(story)

    def story(self, story_id: int) -> StoryState | None:
        return self.stories.get(story_id)

    # -- the decision ------------------------------------------------------------------------------

    def add(self, doc: ArticleDoc) -> Assignment:
        self.observe(doc)
        if doc.published is not None:
            self._clock = max(self._clock or doc.published, doc.published)
            self._expire(self._clock)
        cleaned = self.hygiene.clean(doc.feed, doc.title, doc.summary, doc.text)
        news = item_kind(doc.title, doc.summary, doc.url) not in NON_NEWS
        copy_text = _copy_text(doc, cleaned, news)
        original = self.copies.find(copy_text)
        if original is not None:
            # The original's story (a non-news item's too), unless it has left the index (then the copy is
            # clustered on its own).
            host = self.stories.get(original[1])
            if host is not None:
                self.note_coverage(host.id, doc.published)
                host.outlets[doc.source] = host.outlets.get(doc.source, 0) + 1
                self.copies.add(doc.id, host.id, copy_text, original=original[0])
                return Assignment(doc.id, host.id, False, 1.0, duplicate_of=original[0])
        if not news:
            story = self._new_story(closed=True)
            rep = self._represent(doc)
            story.absorb(rep, self._vectors(rep))
            self.copies.add(doc.id, story.id, copy_text)
            return Assignment(doc.id, story.id, True, 1.0, created=story.id)
        rep = self._represent(doc, cleaned)
        vectors = self._vectors(rep)
        best_id, best_p = None, 0.0
        for story_id, p in self.score(rep, vectors):
            if p > best_p:
                best_id, best_p = story_id, p
        new = best_id is None or best_p < self.threshold
        story = self._new_story() if new or best_id is None else self.stories[best_id]
        story.absorb(rep, vectors)
        self._reindex(story)
        self._bump(story)
        self.copies.add(doc.id, story.id, copy_text)
        self._evict()
        return Assignment(
            doc.id,
            story.id,
            new,
            1.0 if new else round(best_p, 4),
            created=story.id if new else None,
        )

    def score(self, rep: Rep, vectors: tuple[Vector, Vector, Vector]) -> list[tuple[int, float]]:
        """The model's probability for each candidate story (for training: :meth:`candidate_features`)."""
        rows = self.candidate_features(rep, vectors)
        return list(
            zip((sid for sid, _ in rows), self.model.probabilities([f for _, f in rows]), strict=True)
        )

    def candidate_features(
        self, rep: Rep, vectors: tuple[Vector, Vector, Vector]
    ) -> list[tuple[int, dict[str, float]]]:
        candidates = self._candidates(vectors[2])
        rows = [(sid, story_features(rep, vectors, self.stories[sid], self.df)) for sid in candidates]
        order = sorted(range(len(rows)), key=lambda i: (-rows[i][1]["all_cos"], rows[i][0]))
        for rank, i in enumerate(order):
            rows[i][1]["candidate_rank"] = float(rank)
            others = [rows[j][1]["all_cos"] for j in order if j != i]
            rows[i][1]["best_other"] = others[0] if others else 0.0
        return rows

    def prepare(self, doc: ArticleDoc) -> tuple[Rep, tuple[Vector, Vector, Vector]] | None:
        """The article's representation and vectors, or None for a non-news item (training's view)."""
        self.observe(doc)
        if item_kind(doc.title, doc.summary, doc.url) in NON_NEWS:
            return None
        rep = self._represent(doc)
        return rep, self._vectors(rep)

    def place(self, rep: Rep, vectors: tuple[Vector, Vector, Vector], story_id: int | None) -> int:
        """Put an article in a given story, or a new one (training replays the gold stories this way)."""
        if rep.published is not None:
            self._clock = max(self._clock or rep.published, rep.published)
            self._expire(self._clock)
        story = self.stories.get(story_id) if story_id is not None else None
        if story is None:
            story = self._new_story()
        story.absorb(rep, vectors)
        self._reindex(story)
        self._bump(story)
        self._evict()
        return story.id

    # -- internals ---------------------------------------------------------------------------------

    def _language(self, doc: ArticleDoc) -> str:
        language = self._languages.get(doc.id)
        if language is None:
            if doc.language and len(doc.language) == 2:
                language = doc.language.lower()
            else:
                language = detect_language(f"{doc.title}\n{doc.summary[:300]}\n{doc.text[:300]}")
            self._languages[doc.id] = language
            if len(self._languages) > 4 * self.settings.idf_articles:
                for old in list(self._languages)[: len(self._languages) // 2]:
                    del self._languages[old]
        return language

    def _represent(self, doc: ArticleDoc, cleaned: Cleaned | None = None) -> Rep:
        if cleaned is None:
            cleaned = self.hygiene.clean(doc.feed, doc.title, doc.summary, doc.text)
        return represent(
            doc.id,
            cleaned.title,
            cleaned.body,
            published=doc.published,
            dated=doc.dated,
            outlet=doc.source,
            language=self._language(doc),
        )

    def _vectors(self, rep: Rep) -> tuple[Vector, Vector, Vector]:
        return (
            self.df.weigh(rep.title_counts),
            self.df.weigh(rep.body_counts),
            self.df.weigh(rep.all_counts()),
        )

    def _new_story(self, closed: bool = False) -> StoryState:
        story = StoryState(id=self._next_id, closed=closed)
        self._next_id += 1
        self.stories[story.id] = story
        return story

    def _candidates(self, vector: Vector) -> list[int]:
        hits: Counter[int] = Counter()
        for term in top_terms(vector, QUERY_TERMS):
            for story_id in self._postings.get(term, ()):
                hits[story_id] += vector[term]  # type: ignore[assignment]
        ranked = sorted(hits.items(), key=lambda kv: (-kv[1], -kv[0]))
        return [sid for sid, _ in ranked[:MAX_CANDIDATES]]

    def _reindex(self, story: StoryState) -> None:
        if story.closed:
            return
        old = self._indexed.get(story.id, [])
        new = story.index_terms()
        for term in set(old) - set(new):
            self._unpost(term, story.id)
        for term in new:
            posting = self._postings.setdefault(term, {})
            posting.pop(story.id, None)
            posting[story.id] = None  # most recently updated last
            if len(posting) > MAX_POSTINGS:
                del posting[next(iter(posting))]
        self._indexed[story.id] = new

    def _unpost(self, term: str, story_id: int) -> None:
        posting = self._postings.get(term)
        if posting is not None:
            posting.pop(story_id, None)
            if not posting:
                del self._postings[term]

    def _drop_from_index(self, story_id: int) -> None:
        for term in self._indexed.pop(story_id, []):
            self._unpost(term, story_id)

    def _bump(self, story: StoryState) -> None:
        self.stories.pop(story.id, None)
        self.stories[story.id] = story  # dict order = least recently updated first
        if story.last is not None:
            heapq.heappush(self._expiry, (story.last, story.id))

    def _evict(self) -> None:
        while len(self.stories) > self.settings.max_open_stories:
            oldest = next(iter(self.stories))
            self._drop_from_index(oldest)
            del self.stories[oldest]

    def _expire(self, now: datetime) -> None:
        horizon = now - self.max_gap
        while self._expiry and self._expiry[0][0] < horizon:
            _, story_id = heapq.heappop(self._expiry)
            story = self.stories.get(story_id)
            if story is not None and story.last is not None and story.last < horizon:
                self._drop_from_index(story_id)
                del self.stories[story_id]
        self.copies.expire(now)


def _copy_text(doc: ArticleDoc, cleaned: Cleaned, news: bool) -> CopyText:
    """What the copy index compares of an article: its cleaned title and text, under its feed (or its outlet
    when it has none), with its title as published."""
    return CopyText.of(
        cleaned.title, cleaned.body, doc.published, feed=doc.feed or doc.source, news=news, headline=doc.title
    )


def cluster_stream(
    engine: StoryEngine, docs: Sequence[ArticleDoc], batch: int = CLUSTER_BATCH
) -> Iterator[tuple[ArticleDoc, Assignment]]:
    """Each article of ``docs`` (in arrival order) with the engine's decision, in batches observed whole
    before their articles are added: what ``aggregator cluster`` does with its pending articles, for the
    evaluation and the benchmarks."""
    for start in range(0, len(docs), batch):
        chunk = docs[start : start + batch]
        for doc in chunk:
            engine.observe(doc)
        for doc in chunk:
            yield doc, engine.add(doc)
