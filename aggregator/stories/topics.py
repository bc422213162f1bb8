"""Topics ("Explore more on these topics"): normalised topic keys, display labels, and a topic model that
learns from articles carrying feed categories and infers topics for articles that carry none. Pure: no I/O.

Normalisation (:func:`topic_key`), in order:
  1. Unicode compatibility folding, accents dropped ("Gaël" -> "gael"), lowercase.
  2. Parentheticals dropped ("Artificial intelligence (AI)" -> "artificial intelligence").
  3. Punctuation folded: dots inside acronyms vanish ("U.S." -> "us"), "&" becomes "and", other punctuation
     becomes a space; a leading "the" goes ("The Beatles" -> "beatles"); spaces collapse.
  4. A small alias table maps common acronyms and variants to one key ("ai" -> "artificial intelligence",
     "us"/"usa"/"america" -> "united states", "uk"/"britain" -> "united kingdom", "eu" -> "european union",
     "isis"/"isil" -> "islamic state", ...). Deliberately short: only variants unambiguous in news.

The model (:class:`TopicModel`) has three sources of evidence, added up per topic key:
  * the article's own categories, when its feed gives them (certain);
  * its nearest categorised neighbours (kNN over an inverted index of their terms, see
    :class:`aggregator.stories.related.RelatedIndex`): each neighbour votes for its topics with its similarity;
  * known topics named in the text: a name phrase ("Terry Pratchett") whose key is a topic seen in categories.
Learning is incremental (:meth:`TopicModel.learn` as categorised articles arrive) and a prediction costs one
index query, not a scan of all articles. An article with its own categories keeps them
(:func:`article_topics`); one the model knows nothing like shows the names it mentions
(:func:`names_as_topics`, display only). A story ranks its members' topics by mean score
(:func:`story_topics`).

``aggregator eval topics`` measures the model on the Guardian set (half the articles categorised, the other
half predicted); the README gives the current figures and the quality gate their floors.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .doc import ArticleDoc
from .related import RelatedIndex, RelatedParams, StoryKey, StoryProfile, merge_terms
from .terms import BODY_CHARS, article_terms, name_phrases, names_as_written

_PARENS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_ACRONYM_DOTS = re.compile(r"\b((?:[a-z]\.){2,})")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)

ALIASES: Mapping[str, str] = {
    "ai": "artificial intelligence",
    "a i": "artificial intelligence",
    "us": "united states",
    "usa": "united states",
    "america": "united states",
    "united states of america": "united states",
    "uk": "united kingdom",
    "britain": "united kingdom",
    "great britain": "united kingdom",
    "eu": "european union",
    "un": "united nations",
    "nato": "north atlantic treaty organization",
    "north atlantic treaty organisation": "north atlantic treaty organization",
    "isis": "islamic state",
    "isil": "islamic state",
    "daesh": "islamic state",
    "nyc": "new york city",
    "ml": "machine learning",
    "gop": "republican party",
    "republicans": "republican party",
    "democrats": "democratic party",
    "covid": "coronavirus",
    "covid 19": "coronavirus",
    "world health organisation": "world health organization",
    "fifa world cup": "world cup",
    "nhs": "national health service",
    "bbc": "british broadcasting corporation",
}


@lru_cache(maxsize=100_000)
def fold(label: str) -> str:
    """Steps 1-3 of the normalisation: accents, case, parentheticals and punctuation, without aliases."""
    text = unicodedata.normalize("NFKD", label)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _PARENS.sub(" ", text)
    text = _ACRONYM_DOTS.sub(lambda m: m.group(1).replace(".", ""), text)
    text = text.replace("&", " and ").replace("'s ", " ").replace("’s ", " ")
    text = " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())
    return text.removeprefix("the ") if text != "the" else text


@lru_cache(maxsize=100_000)
def topic_key(label: str) -> str:
    """The key under which variants of a topic label meet ("AI", "Artificial intelligence (AI)")."""
    folded = fold(label)
    return ALIASES.get(folded, folded)


@dataclass(frozen=True)
class TopicScore:
    key: str
    label: str  # display label: the form the outlets use most
    score: float
    names_only: bool = False  # the fallback from names in the text: shown, but no extra evidence for relating


@dataclass(frozen=True)
class TopicParams:
    neighbours: int = 30  # categorised neighbours that vote
    neighbour_power: float = 2.0  # sharper votes: close neighbours count much more than distant ones
    name_weight: float = 0.3  # a known topic named in the text
    own_weight: float = 10.0  # the article's own categories
    min_label_count: int = 2  # a name in text counts only for topics seen at least this often
    feed_boost: float = 0.5  # neighbours from the same feed are more alike in their tagging
    # Votes are shares of the neighbours' weight, scaled by how similar the best neighbour is: one distant
    # neighbour sharing a single word must not lend its topics with full confidence.
    confident_similarity: float = 0.3


class TopicModel:
    """Learns topic keys from categorised articles; infers ranked topics for any article."""

    def __init__(self, params: TopicParams | None = None) -> None:
        self.params = params or TopicParams()
        # Neighbours need to be similar, not recent; a lean query keeps a prediction near a millisecond.
        self._index = RelatedIndex(
            RelatedParams(
                window=None,
                near_boost=0.0,
                far_boost=0.0,
                topic_weight=0.0,
                feed_boost=self.params.feed_boost,
                min_content=0.0,  # votes are weighted by similarity already
                query_terms=30,
                max_df_fraction=0.02,
                min_df_for_cap=50,
                candidates=200,
                refine_terms=60,
            )
        )
        self._topics: dict[StoryKey, tuple[str, ...]] = {}
        self._labels: dict[str, Counter[str]] = {}
        self._counts: Counter[str] = Counter()
        self._outlets: dict[str, set[str]] = {}  # the outlets whose own categories hold a key

    def __len__(self) -> int:
        return len(self._topics)

    def learn(self, profile: StoryProfile, categories: Sequence[str], outlets: Iterable[str] = ()) -> None:
        """Remember a categorised article (its terms and its outlet's categories). ``outlets``: the outlets
        whose categories these are; a key only one outlet uses is that outlet's private vocabulary, which
        neighbours lend only to that outlet's articles (:meth:`predict`)."""
        keys = []
        for label in categories:
            key = topic_key(label)
            if not key:
                continue
            self._labels.setdefault(key, Counter())[label.strip()] += 1
            if key not in keys:
                keys.append(key)
        if not keys:
            return
        if profile.key in self._topics:
            for key in self._topics[profile.key]:
                self._counts[key] -= 1
        self._counts.update(keys)
        for key in keys:
            self._outlets.setdefault(key, set()).update(o for o in outlets if o)
        self._topics[profile.key] = tuple(keys)
        self._index.add(StoryProfile(profile.key, profile.terms, None, {}, profile.feeds))

    def label(self, key: str) -> str:
        labels = self._labels.get(key)
        if not labels:
            return key
        return min(labels.items(), key=lambda kv: (-kv[1], kv[0]))[0]

    def known(self, key: str) -> bool:
        return self._counts.get(key, 0) >= self.params.min_label_count

    def shared(self, key: str, outlet: str | None) -> bool:
        """Whether neighbours may lend ``key`` to an article of ``outlet``: the key is used by several outlets,
        by this outlet, or by outlets not recorded."""
        users = self._outlets.get(key)
        return not users or len(users) >= 2 or (outlet is not None and outlet in users)

    def predict(
        self,
        profile: StoryProfile,
        count: int,
        categories: Iterable[str] = (),
        names: Iterable[str] = (),
        outlet: str | None = None,
    ) -> list[TopicScore]:
        """Ranked topics for an article or story: own categories first, then neighbours' votes and names.
        ``outlet``: the article's outlet; another outlet's private vocabulary is not lent to it."""
        p = self.params
        scores: dict[str, float] = {}
        for label in categories:
            key = topic_key(label)
            if key:
                scores[key] = scores.get(key, 0.0) + p.own_weight
        neighbours = self._index.related(
            StoryProfile(profile.key, profile.terms, None, {}, profile.feeds), p.neighbours
        )
        total = sum(n.score**p.neighbour_power for n in neighbours) or 1.0
        confidence = min(1.0, max((n.score for n in neighbours), default=0.0) / p.confident_similarity)
        for n in neighbours:
            vote = confidence * n.score**p.neighbour_power / total
            for key in self._topics.get(n.key, ()):
                if self.shared(key, outlet):
                    scores[key] = scores.get(key, 0.0) + vote
        for name in set(names):
            key = topic_key(name)
            if self.known(key) and self.shared(key, outlet):
                scores[key] = scores.get(key, 0.0) + p.name_weight
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:count]
        return [TopicScore(key, self.label(key), score) for key, score in ranked]


NAME_TOPIC_SCORE = 0.3
PROFILE_TERMS = 150  # more adds noise (measured on the Guardian set) and makes stored profiles bigger


def strongest_terms(terms: dict[str, float], limit: int = PROFILE_TERMS) -> dict[str, float]:
    if len(terms) <= limit:
        return terms
    return dict(sorted(terms.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])


def article_profile(doc: ArticleDoc) -> StoryProfile:
    """An article as the indexes see it (its terms, time and feed)."""
    terms = strongest_terms(article_terms(doc.title, doc.summary, doc.text))
    return StoryProfile(doc.id, terms, doc.published, {}, frozenset({doc.feed}) if doc.feed else frozenset())


def article_topics(model: TopicModel, doc: ArticleDoc, profile: StoryProfile, count: int) -> list[TopicScore]:
    """An article's ranked topics: its outlet's categories when it has some (kept in the outlet's order),
    else the model's inference from similar categorised articles and the names in its text."""
    if doc.categories:
        keys = list(dict.fromkeys(k for k in (topic_key(c) for c in doc.categories) if k))
        return [TopicScore(k, model.label(k), 1.0 - 0.01 * i) for i, k in enumerate(keys[:count])]
    # Sentence-initial words count here: they are only looked up among topics already known.
    names = name_phrases(f"{doc.title}. {doc.summary}. {doc.text[:BODY_CHARS]}", sentence_starts=True)
    predicted = model.predict(profile, count, names=names, outlet=doc.source or None)
    if not predicted:
        return names_as_topics(doc, count)
    top = predicted[0].score
    return [TopicScore(t.key, t.label, t.score / top) for t in predicted]


def names_as_topics(doc: ArticleDoc, count: int) -> list[TopicScore]:
    """The fallback when nothing categorised is like this article: the names it mentions most (headline
    first), as written, at low scores so that any learnt topic of another member outranks them."""
    seen: dict[str, tuple[int, int, str]] = {}
    for order, name in enumerate(names_as_written(f"{doc.title}. {doc.summary}")):
        key = topic_key(name)
        if key:
            hits, first, label = seen.get(key, (0, order, name))
            seen[key] = (hits + 1, first, label)
    ranked = sorted(seen.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[:count]
    return [
        TopicScore(key, label, NAME_TOPIC_SCORE / (1 + i), names_only=True)
        for i, (key, (_, _, label)) in enumerate(ranked)
    ]


def story_topics(per_article: Sequence[Sequence[TopicScore]], count: int) -> list[TopicScore]:
    """A story's ranked topics: its articles' topic scores averaged (a topic most members share leads)."""
    scores: dict[str, float] = {}
    labels: dict[str, str] = {}
    names_only: dict[str, bool] = {}
    for topics in per_article:
        for t in topics:
            scores[t.key] = scores.get(t.key, 0.0) + t.score
            labels.setdefault(t.key, t.label)
            names_only[t.key] = names_only.get(t.key, True) and t.names_only
    n = len(per_article) or 1
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:count]
    return [TopicScore(k, labels[k], s / n, names_only[k]) for k, s in ranked]


def story_profile(
    key: StoryKey, docs: Sequence[ArticleDoc], profiles: Sequence[StoryProfile], topics: Sequence[TopicScore]
) -> StoryProfile:
    """A story for the related index: its articles' mean terms (the strongest ``PROFILE_TERMS``), its topics,
    first time and feeds."""
    times = [d.published for d in docs if d.published]
    terms = strongest_terms(merge_terms(p.terms for p in profiles))
    return StoryProfile(
        key,
        terms,
        min(times) if times else None,
        {t.key: t.score for t in topics if not t.names_only},  # names are in the terms already
        frozenset(d.feed for d in docs if d.feed),
    )


NAME_MIN_OUTLETS = 2  # a name is a story's topic when articles of at least this many outlets name it
_LABEL_STOPWORDS = frozenset(
    {"and", "of", "the", "in", "for", "on", "to", "a", "an", "at", "by", "with", "de"}
)
_VARIANTS: dict[str, tuple[str, ...]] = {}
for _variant, _key in ALIASES.items():
    _VARIANTS.setdefault(_key, ())
    _VARIANTS[_key] += (_variant,)


def _story_text(docs: Sequence[ArticleDoc]) -> str:
    parts = (f"{d.title}. {d.summary}. {d.text[:BODY_CHARS]}" for d in docs)
    return " " + fold.__wrapped__(" ".join(parts)) + " "


def _in_text(topic: TopicScore, text: str, tokens: frozenset[str]) -> bool:
    """Whether the story's folded text names the topic: the key, one of its aliases, or every content word of
    its label (a plural ``s`` aside)."""
    if f" {topic.key} " in text or any(f" {v} " in text for v in _VARIANTS.get(topic.key, ())):
        return True
    words = [w for w in fold(topic.label).split() if w not in _LABEL_STOPWORDS and len(w) > 1]
    return bool(words) and all(
        w in tokens or w.removesuffix("s") in tokens or f"{w}s" in tokens for w in words
    )


def names_in_several(docs: Sequence[ArticleDoc], count: int) -> list[TopicScore]:
    """People, places and organisations (capitalised multi-word names) that articles of several outlets in the
    story name (one outlet's boilerplate does not count), scored by the share of articles naming them (display
    only: they are in the terms already)."""
    hits: Counter[str] = Counter()
    outlets: dict[str, set[str]] = {}
    labels: dict[str, Counter[str]] = {}
    for doc in docs:
        found: set[str] = set()
        for name in names_as_written(f"{doc.title}. {doc.summary}. {doc.text[:BODY_CHARS]}"):
            if " " not in name.strip():
                continue
            key = topic_key(name)
            if key and key not in found:
                found.add(key)
                labels.setdefault(key, Counter())[name] += 1
                outlets.setdefault(key, set()).add(doc.source or doc.id)
        hits.update(found)
    n = len(docs) or 1
    ranked = sorted(
        ((k, c) for k, c in hits.items() if len(outlets[k]) >= NAME_MIN_OUTLETS),
        key=lambda kv: (-kv[1], kv[0]),
    )[:count]
    return [
        TopicScore(k, min(labels[k].items(), key=lambda kv: (-kv[1], kv[0]))[0], c / n, names_only=True)
        for k, c in ranked
    ]


def shown_story_topics(
    per_article: Sequence[Sequence[TopicScore]], docs: Sequence[ArticleDoc], count: int
) -> list[TopicScore]:
    """A story's topics as the site may show them: :func:`story_topics`, keeping only topics with evidence in
    the story's own text or from several outlets, then names that several of its articles mention; a label
    the category cleaning rejects (an id, a marker, an outlet's own name) is never shown."""
    from .categories import clean_category  # it builds on this module's normalisation

    feeds = sorted({d.feed for d in docs if d.feed})
    outlets = sorted({d.source for d in docs if d.source})
    ranked = story_topics(per_article, count)
    support: dict[str, set[str]] = {}  # the outlets whose own categories give a key
    for doc in docs:
        for label in doc.categories:
            support.setdefault(topic_key(label), set()).add(doc.source or doc.id)
    text = _story_text(docs)
    tokens = frozenset(text.split())
    kept = [t for t in ranked if len(support.get(t.key, ())) >= 2 or _in_text(t, text, tokens)]
    by_key = {t.key: t for t in kept}
    for name in names_in_several(docs, count):
        known = by_key.get(name.key)
        if known is None or known.score < name.score:  # several outlets' mentions outweigh a weak guess
            by_key[name.key] = name if known is None else TopicScore(known.key, known.label, name.score, True)
    shown = [t for t in by_key.values() if clean_category(t.label, feeds, brands=outlets) is not None]
    return sorted(shown, key=lambda t: (-t.score, t.key))[:count]


# An inferred topic is shown only with this much confidence (own categories score far above it).
MIN_TOPIC_SCORE = 0.15


def displayed_topics(topics: Sequence[TopicScore], count: int) -> list[TopicScore]:
    """The chips a story page shows: its topics above ``MIN_TOPIC_SCORE``, at most ``count``."""
    return [t for t in topics if t.score >= MIN_TOPIC_SCORE][:count]
