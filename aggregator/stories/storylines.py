"""Which related stories belong to the same ongoing storyline: specific shared evidence, scored by a small learned
model and cut at a calibrated threshold. Pure: no I/O (the weights are package data, read once).

    story's articles --story_evidence--> StoryEvidence (rare names, numbers, title words, title phrases, kind)
    (query, candidate, the index's similarity and rank, the window's document frequencies)
      --pair_features--> features --StorylineModel.probability--> P(same storyline)

A candidate comes from the related index (tf-idf over the stories' terms); it is listed only when the model gives it
at least ``threshold``: a story may list nothing. What counts is evidence a storyline shares and a topic does not:
rare names, places and organisations (the ``@name`` phrases), numbers, rare title words and the title phrases that
act as a storyline's key ("alert level 3"), each weighed by its rarity among the window's stories (idf divided by
its maximum, so the scale does not move with the window's size); one common word or a shared feed is not enough. Two structural hints join them: the share of best candidates two
stories have in common (a storyline's hub: the weekend's beach closures meet through the big beach-crowds story)
and whether each is among the other's best. A famous name alone is weak evidence (two stories about one royal or one
governor are rarely one storyline), so the title words and phrases shared beside the shared names are features of their
own.

Stories whose every article is not news (a live blog, a round-up, a recurring column: the ``listable`` predicate)
are never listed. The weights are in ``storyline_model.json``, made by ``scripts/train_storylines.py`` from the
hand-labelled real feed days (leave one day out; it prints the figures).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import Any

from .doc import ArticleDoc
from .kinds import NON_NEWS, item_kind
from .terms import STOPWORDS, content_terms, name_phrases, stem

Listable = Callable[[ArticleDoc], bool]

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?:%|\b)")
# A date written with slashes ("4/29/2020") is one number: two daily editions differ in it as a whole.
_TITLE_WORD = re.compile(
    r"(?<![\w./-])\d{1,4}/\d{1,2}(?:/\d{1,4})?(?![\w/-])|(?<![\w.-])\d+(?:[.,]\d+)*(?![\w-])|[^\W\d_][\w'-]*",
    re.UNICODE,
)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
# Feed boilerplate and generic words that a title phrase made of them says nothing about a storyline.
_PHRASE_STOP = STOPWORDS | frozenset({"video", "watch", "live", "update", "news", "latest", "breaking"})


def news_item(doc: ArticleDoc) -> bool:
    """The default predicate: the item is news by the item-kind detector (:mod:`aggregator.stories.kinds`)."""
    return item_kind(doc.title, doc.summary, doc.url) not in NON_NEWS


@dataclass(frozen=True)
class StoryEvidence:
    """What a story offers as storyline evidence (all lowercase keys)."""

    names: frozenset[str]  # name phrases of its titles and summaries ("jacinda ardern", "alert level")
    numbers: frozenset[str]  # numbers of its titles and summaries, years and small counts included
    title_terms: frozenset[str]  # stemmed content words of its titles
    phrases: frozenset[str]  # adjacent title word pairs, numbers kept ("alert level", "level 3")
    segments: frozenset[str] = frozenset()  # title parts between separators ("cosmos possible worlds")
    listable: bool = True  # it has at least one news item (not only live blogs, round-ups, columns)
    title_numbers: frozenset[str] = frozenset()  # standalone numbers of its titles ("3.7", not "COVID-19")
    number_words: frozenset[str] = frozenset()  # the content words next to them ("magnitude", "quake")

    def to_json(self) -> dict[str, object]:
        return {
            "names": sorted(self.names),
            "numbers": sorted(self.numbers),
            "title": sorted(self.title_terms),
            "phrases": sorted(self.phrases),
            "segments": sorted(self.segments),
            "listable": self.listable,
            "title_numbers": sorted(self.title_numbers),
            "number_words": sorted(self.number_words),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> StoryEvidence:
        def strings(key: str) -> frozenset[str]:
            value = data.get(key)
            return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()

        return cls(
            strings("names"),
            strings("numbers"),
            strings("title"),
            strings("phrases"),
            strings("segments"),
            bool(data.get("listable", True)),
            strings("title_numbers"),
            strings("number_words"),
        )


def _phrases(title: str) -> set[str]:
    tokens = [stem(t) for t in _TOKEN.findall(title.lower().replace("’", "'"))]
    kept = [t for t in tokens if t not in _PHRASE_STOP and (len(t) > 1 or t.isdigit())]
    return {f"{a} {b}" for a, b in pairwise(kept)}


_SEPARATOR = re.compile(r"\s[|:\u2013\u2014-]\s|[|:]\s|\s\|")


def _segments(title: str) -> set[str]:
    """The parts of a title a series or a storyline repeats ("The Sacrifice of Cassini | Cosmos: Possible Worlds"
    gives "cosmos possible worlds" among others), as folded words; the whole title is not one of them."""
    parts = [p for p in _SEPARATOR.split(title) if p.strip()]
    if len(parts) < 2:
        return set()
    found = set()
    for start in range(len(parts)):
        for end in range(start + 1, len(parts) + 1):
            if end - start < len(parts):
                folded = " ".join(t for t in _TOKEN.findall(" ".join(parts[start:end]).lower()))
                if len(folded) >= 4:
                    found.add(folded)
    return found


MIN_BRAND = 5  # letters an outlet's key needs before a title part spelling it is taken for its label


def own_title(title: str, outlet: str) -> str:
    """``title`` without the parts that name its own outlet ("GMA News COVID-19 Bulletin: …", "… | Fox News"): an
    outlet's label on its items says nothing about their storyline. Short keys ("cnn", "mail") are left alone, as
    a title part may start with the same letters ("Mail-in voting: …").

    Feed hygiene's learned title segments are not used here: they are cut by how often a feed repeats them, which
    would also take a show's own segment ("Cosmos: Possible Worlds"), one storyline by the labels, while a bulletin
    an outlet runs a few times a week stays under that bar. The outlet's name tells the label apart."""
    key = outlet.casefold()
    if len(key) < MIN_BRAND:
        return title
    parts = [p for p in _SEPARATOR.split(title) if p.strip()]
    kept = [p for p in parts if not _spells(p, key)]
    return " - ".join(kept) if kept and len(kept) < len(parts) else title


def _spells(part: str, key: str) -> bool:
    """Whether the first words of ``part`` spell ``key`` ("GMA News COVID-19 Bulletin" and "gmanews")."""
    joined = ""
    for word in _TOKEN.findall(part.casefold())[:4]:
        joined += word
        if joined == key:
            return True
        if not key.startswith(joined):
            return False
    return False


def story_evidence(docs: Sequence[ArticleDoc], listable: Listable = news_item) -> StoryEvidence:
    names: set[str] = set()
    numbers: set[str] = set()
    title_terms: set[str] = set()
    phrases: set[str] = set()
    segments: set[str] = set()
    title_numbers: set[str] = set()
    number_words: set[str] = set()
    for doc in docs:
        title = own_title(doc.title, doc.source)
        lead = f"{title}. {doc.summary[:600]}"
        names.update(name_phrases(lead))
        numbers.update(n.replace(",", "") for n in _NUMBER.findall(lead))
        title_terms.update(t for t in content_terms(title) if len(t) > 2)
        phrases.update(_phrases(title))
        segments.update(_segments(title))
        found, beside = _numbers_in(title)
        title_numbers.update(found)
        number_words.update(beside)
    return StoryEvidence(
        frozenset(names),
        frozenset(numbers),
        frozenset(title_terms),
        frozenset(phrases),
        frozenset(segments),
        any(listable(d) for d in docs) if docs else False,
        frozenset(title_numbers),
        frozenset(number_words),
    )


def _numbers_in(title: str) -> tuple[set[str], set[str]]:
    """A title's standalone numbers ("3.7"; not "COVID-19" or "100th") and the content words beside them."""
    words = _TITLE_WORD.findall(title.lower())
    numbers, beside = set(), set()
    for i, word in enumerate(words):
        if word[:1].isdigit():
            numbers.add(word.replace(",", ""))
            for near in (words[i - 1] if i else "", words[i + 1] if i + 1 < len(words) else ""):
                if near and not near[:1].isdigit() and near not in STOPWORDS:
                    beside.add(near)
    return numbers, beside


def other_edition(a: StoryEvidence, b: StoryEvidence) -> bool:
    """Two editions of one template (a magnitude 3.7 and a magnitude 4.0 quake near two towns):
    their titles put different numbers beside the same word, and share no number. Numbers beside different
    words ("21 days" and "2 weeks") say nothing."""
    return bool(
        a.title_numbers
        and b.title_numbers
        and a.title_numbers.isdisjoint(b.title_numbers)
        and not a.number_words.isdisjoint(b.number_words)
    )


class Frequencies:
    """Document frequencies of the evidence keys over a window's stories."""

    def __init__(self, evidence: Iterable[StoryEvidence]) -> None:
        self.n = 0
        self.df: dict[str, int] = {}
        for ev in evidence:
            self.n += 1
            for key in _keys(ev):
                self.df[key] = self.df.get(key, 0) + 1

    def rarity(self, key: str) -> float:
        """idf scaled to 0..1: 1 for a key only one story has, 0 for one every story has."""
        df = max(1, self.df.get(key, 1))
        top = math.log(self.n + 1)
        return max(0.0, math.log((self.n + 1) / df) / top) if top > 0 else 0.0


def _keys(ev: StoryEvidence) -> Iterable[str]:
    yield from ("n:" + k for k in ev.names)
    yield from ("#:" + k for k in ev.numbers)
    yield from ("t:" + k for k in ev.title_terms)
    yield from ("p:" + k for k in ev.phrases)
    yield from ("s:" + k for k in ev.segments)


FEATURES = (
    "similarity",  # the related index's score (log)
    "rank",  # 1 / the candidate's rank in the query's list
    "names",  # rarity-weighted shared names
    "best_name",  # the rarest shared name
    "numbers",  # rarity-weighted shared numbers
    "title",  # rarity-weighted shared title words
    "best_title",  # the rarest shared title word
    "phrases",  # rarity-weighted shared title phrases
    "best_phrase",  # the rarest shared title phrase
    "segment",  # the rarest shared title segment (a series' or storyline's title part)
    "rare_names",  # how many shared names are rare (rarity at least 0.5)
    "same_feed",
    "neighbours",  # share of the candidate's best candidates that are also the query's: a storyline's hub
    "mutual",  # 1 / the query's rank in the candidate's own list (0 when it is not there)
    "beyond_title",  # rarity-weighted shared title words that are not words of a shared name
    "beyond_phrase",  # the rarest shared title phrase with a word outside the shared names
)


def _shared(
    a: frozenset[str], b: frozenset[str], prefix: str, freq: Frequencies, skip: frozenset[str] = frozenset()
) -> list[float]:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return sorted((freq.rarity(prefix + k) for k in small if k in large and k not in skip), reverse=True)


@lru_cache(maxsize=65536)
def _name_words(name: str) -> frozenset[str]:
    """A name's words as title terms are stemmed ("kate middleton" -> the stems of both words)."""
    return frozenset(content_terms(name))


def _beside_names(
    shared_names: Iterable[str], title: frozenset[str], phrases: frozenset[str]
) -> frozenset[str]:
    """The title words, and the phrases made only of such words, that belong to the shared names: the rest is
    evidence beside them."""
    words = frozenset().union(*(_name_words(n) for n in shared_names))
    inside = {t for t in title if t in words}
    inside.update(p for p in phrases if all(w in words or w.isdigit() for w in p.split()))
    return frozenset(inside)


def pair_features(
    query: StoryEvidence,
    candidate: StoryEvidence,
    *,
    similarity: float,
    rank: int,
    same_feed: bool,
    freq: Frequencies,
    neighbours: float = 0.0,
    mutual_rank: int | None = None,
) -> list[float]:
    """The model's inputs for one (story, candidate) pair, in the order of :data:`FEATURES`.

    Time is not among them: the labelled days are single days, and their storyline labels disagree across days,
    so the model could not learn what days apart mean; the related index's time prior (in ``similarity``) and
    window carry it."""
    names = _shared(query.names, candidate.names, "n:", freq)
    in_names = _beside_names(query.names & candidate.names, query.title_terms, query.phrases)
    numbers = _shared(query.numbers, candidate.numbers, "#:", freq)
    title = _shared(query.title_terms, candidate.title_terms, "t:", freq)
    phrases = _shared(query.phrases, candidate.phrases, "p:", freq)
    segments = _shared(query.segments, candidate.segments, "s:", freq)
    beyond_title = _shared(query.title_terms, candidate.title_terms, "t:", freq, in_names)
    beyond_phrases = _shared(query.phrases, candidate.phrases, "p:", freq, in_names)
    return [
        math.log1p(max(0.0, similarity)),
        1.0 / max(1, rank),
        sum(x * x for x in names),
        names[0] if names else 0.0,
        sum(x * x for x in numbers),
        sum(x * x for x in title),
        title[0] if title else 0.0,
        sum(x * x for x in phrases),
        phrases[0] if phrases else 0.0,
        segments[0] if segments else 0.0,
        float(sum(x >= 0.5 for x in names)),
        1.0 if same_feed else 0.0,
        neighbours,
        1.0 / mutual_rank if mutual_rank else 0.0,
        sum(x * x for x in beyond_title),
        beyond_phrases[0] if beyond_phrases else 0.0,
    ]


@dataclass(frozen=True)
class Tree:
    """One regression tree of the boosted model, as parallel arrays (a leaf has ``feature`` -1)."""

    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]

    def predict(self, x: Sequence[float]) -> float:
        node = 0
        while self.feature[node] >= 0:
            node = self.left[node] if x[self.feature[node]] <= self.threshold[node] else self.right[node]
        return self.value[node]


@dataclass(frozen=True)
class StorylineModel:
    """Gradient-boosted trees over :data:`FEATURES` (log-odds), with the calibrated display threshold."""

    init: float
    learning_rate: float
    trees: tuple[Tree, ...]
    threshold: float
    candidates: int = 30  # how many of the related index's best candidates are scored
    # The bar for two stories ``FAR_APART`` or more apart, calibrated on such pairs alone: a name shared across
    # days is more often another storyline than one shared within a day (None: ``threshold``).
    far_threshold: float | None = None

    def bar(self, apart: bool) -> float:
        """The display threshold for a pair of stories, by whether they are ``FAR_APART`` or more apart."""
        return max(self.threshold, self.far_threshold or 0.0) if apart else self.threshold

    def probability(self, features: Sequence[float]) -> float:
        z = self.init + self.learning_rate * sum(t.predict(features) for t in self.trees)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            "init": self.init,
            "learning_rate": self.learning_rate,
            "threshold": self.threshold,
            "far_threshold": self.far_threshold,
            "candidates": self.candidates,
            "trees": [
                [list(t.feature), list(t.threshold), list(t.left), list(t.right), list(t.value)]
                for t in self.trees
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StorylineModel:
        if data.get("features") != list(FEATURES):
            raise ValueError("storyline model: its features are not this code's; retrain it")
        trees = tuple(
            Tree(
                tuple(int(v) for v in f),
                tuple(float(v) for v in th),
                tuple(int(v) for v in le),
                tuple(int(v) for v in ri),
                tuple(float(v) for v in va),
            )
            for f, th, le, ri, va in data["trees"]
        )
        return cls(
            float(data["init"]),
            float(data["learning_rate"]),
            trees,
            float(data["threshold"]),
            int(data.get("candidates", 30)),
            None if data.get("far_threshold") is None else float(data["far_threshold"]),
        )


FAR_APART = timedelta(days=1)
MODEL_FILE = "storyline_model.json"


@lru_cache(maxsize=1)
def default_model() -> StorylineModel:
    """The shipped model (package data made by ``scripts/train_storylines.py``)."""
    text = resources.files(__package__).joinpath(MODEL_FILE).read_text(encoding="utf-8")
    return StorylineModel.from_json(json.loads(text))
