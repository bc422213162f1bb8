"""Pure text processing for the story engine: tokens, key phrases and TF-IDF with a learned vocabulary.

The public surface is small on purpose (part B reuses it):

- :func:`normalize` - Unicode-folded lowercase text for exact comparisons.
- :func:`tokenize` - content words: lowercase, stopwords dropped, a light plural stemmer.
- :func:`key_phrases` - named-entity-ish phrases (capitalised sequences) and numbers that matter.
- :class:`DocumentFrequencies` - document frequencies learned from the stream, one ``add`` per document,
  with a smoothing prior so that the first articles are not dominated by chance words.
- :func:`weigh` / :func:`cosine` / :func:`top_terms` - sparse vectors as plain ``dict[str, float]``.

Vectors are dictionaries, not numpy arrays: documents hold a few hundred terms out of an open vocabulary,
and dictionaries keep the engine's state trivially serialisable to JSON.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping

Vector = dict[str, float]
PRIOR_DOCS = 20

# Words that carry no topic. English only; other languages still work, with weaker weighting of their
# function words (the learned IDF pushes them down after a few hundred articles).
STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are aren as at be because been before being
below between both but by can cannot could couldn did didn do does doesn doing don down during each few
for from further had hadn has hasn have haven having he her here hers herself him himself his how i if
in into is isn it its itself just let ll me more most mustn my myself no nor not now of off on once only
or other ought our ours ourselves out over own re s same shan she should shouldn so some such t than
that the their theirs them themselves then there these they this those through to too under until up us
ve very was wasn we were weren what when where which while who whom why will with won would wouldn you
your yours yourself yourselves said says say told according new one two year years day days week weeks
time today yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday news report
reports reported reporting via mr mrs ms dr get got make made may might must many much like back first
last since still even well
""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"^\d[\d.,]*$")
# A capitalised word: an upper-case letter followed by anything word-like ("McDonald's", "U.S.", "eBay" is not).
_CAP = re.compile(r"^[^\W\d_][\w'’.-]*$")
_SENTENCE_END = re.compile(r"[.!?:;\"“”()\[\]\n|–—-]")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_JOINERS = frozenset({"of", "de", "del", "la", "van", "von", "der", "al", "bin", "da", "di", "le", "du"})


def normalize(text: str) -> str:
    """Lowercase, accents folded, punctuation dropped, whitespace collapsed: for exact-match keys."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return " ".join(_WORD.findall(folded.replace("'", "").replace("’", "")))


def stem(word: str) -> str:
    """A light plural stemmer (Harman's S-stemmer): "quakes" -> "quake", "cities" -> "city"."""
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1]
    return word[:-1]


def _fold(word: str) -> str:
    word = word.casefold().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    return word if _NUMBER.match(word) else word.replace(".", "")


# Upper-case abbreviations that would otherwise fold into a stopword ("U.S." and "US" are not "us").
_ABBREVIATIONS = {"U.S.": "usa", "US": "usa", "U.S": "usa"}


def tokenize(text: str) -> list[str]:
    """Content words of ``text`` in order: lowercase, possessives and dots dropped, stopwords out, stemmed."""
    out = []
    for raw in _WORD.findall(text):
        word = _ABBREVIATIONS.get(raw) or _fold(raw)
        if not word or word in STOPWORDS:
            continue
        if len(word) == 1 and not word.isdigit():
            continue
        out.append(word if _NUMBER.match(word) else stem(word))
    return out


def _mostly_capitalised(words: list[str]) -> bool:
    """Title Case headlines ("Fed's Plosser: Nasty Weather Has Curbed Job Growth") make every word a phrase."""
    alpha = [w for w in words if w[:1].isalpha() and w.casefold() not in STOPWORDS]
    if len(alpha) < 3:
        return False
    return sum(1 for w in alpha if w[:1].isupper()) / len(alpha) >= 0.9


def key_phrases(text: str) -> list[str]:
    """Named-entity-ish phrases: runs of capitalised words ("Betty Ford Center") and numbers of 2+ digits.

    A capitalised word that opens a sentence counts only as part of a longer run or when it is not a
    common word; lines written in Title Case yield numbers only. Returned normalised, in order, repeated
    as often as they occur (callers count them).
    """
    phrases: list[str] = []
    for line in text.splitlines():
        words = line.split()
        title_case = _mostly_capitalised(words)
        run: list[str] = []
        sentence_start = True

        def close(run: list[str], started: bool) -> None:
            while run and run[-1].casefold() in _JOINERS:
                run.pop()
            while run and _fold(run[0]) in STOPWORDS:
                run.pop(0)
            if not run:
                return
            if len(run) == 1:
                word = _fold(run[0])
                if started or word in STOPWORDS or len(word) < 2:
                    return
            phrases.append(" ".join(stem(_fold(w)) for w in run))

        run_started_sentence = False
        for token in words:
            core = token.strip("\"'“”‘’()[],.!?:;«»")
            ends = bool(_SENTENCE_END.search(token[-1:])) if token else False
            if core and core[:1].isdigit():
                digits = re.sub(r"\D", "", core)
                if len(digits) >= 2:
                    phrases.append(digits if len(digits) <= 4 else core.casefold())
            is_cap = bool(core) and core[:1].isupper() and bool(_CAP.match(core)) and not title_case
            if is_cap or (run and core.casefold() in _JOINERS):
                if not run:
                    run_started_sentence = sentence_start
                run.append(core)
            else:
                close(run, run_started_sentence)
                run = []
            if ends:
                close(run, run_started_sentence)
                run = []
            sentence_start = ends or (sentence_start and not core)
        close(run, run_started_sentence)
    return phrases


class DocumentFrequencies:
    """Document frequencies learned incrementally from the stream.

    ``idf(term)`` is a smoothed log ratio. The prior: ``prior_docs`` imaginary earlier documents in which
    no content word occurred, so that until real evidence accumulates every content word weighs about
    the same (and the stopword list does the filtering) instead of the first few articles deciding that
    any word they share is common.
    """

    def __init__(self, prior_docs: int = PRIOR_DOCS) -> None:
        self.docs = 0
        self.prior_docs = prior_docs
        self.counts: Counter[str] = Counter()

    def add(self, terms: Iterable[str]) -> None:
        self.docs += 1
        self.counts.update(set(terms))

    def add_new(self, terms: Iterable[str], seen: Mapping[str, float]) -> None:
        """Count per group (a story): only the terms the group has not used yet; a new group (nothing
        ``seen``) is one more document."""
        if not seen:
            self.docs += 1
        self.counts.update(t for t in set(terms) if t not in seen)

    def merge_groups(self, a: Iterable[str], b: Iterable[str]) -> None:
        """Two groups counted by :meth:`add_new` became one: their shared terms and the group count once."""
        self.docs -= 1
        for term in set(a) & set(b):
            self.counts[term] -= 1

    def weigh_as_new(self, counts: Mapping[str, float]) -> Vector:
        """TF-IDF of ``counts`` as if the document had been added (its own terms counted once more)."""
        n = self.docs + self.prior_docs + 2
        return normalized(
            {t: c * math.log(n / (self.counts.get(t, 0) + 2)) for t, c in counts.items() if c > 0}
        )

    def idf(self, term: str) -> float:
        return math.log((self.docs + self.prior_docs + 1) / (self.counts.get(term, 0) + 1))

    def weigh(self, counts: Mapping[str, float]) -> Vector:
        """TF-IDF of already weighted term counts, L2-normalised."""
        return normalized({t: c * self.idf(t) for t, c in counts.items() if c > 0})


def normalized(vector: Mapping[str, float]) -> Vector:
    norm = math.sqrt(sum(w * w for w in vector.values()))
    if norm == 0:
        return {}
    return {t: w / norm for t, w in vector.items() if w > 0}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Dot product of two L2-normalised sparse vectors (iterates over the shorter one)."""
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(t, 0.0) for t, w in a.items())


def top_terms(vector: Mapping[str, float], k: int) -> list[str]:
    """The ``k`` heaviest terms, ties broken by the term itself so the order is deterministic."""
    return [t for t, _ in sorted(vector.items(), key=lambda item: (-item[1], item[0]))[:k]]
