"""The one tokeniser of the story features: language, words, stop words, stems, names, TF-IDF.

Every part of the story side (clustering, copies, related stories, topics) reads text through this module,
so that a word means the same everywhere:

- :func:`detect_language` - the item's language (py3langid, which ships its model), or its script for
  Chinese, Japanese, Korean and Thai text, which has no spaces between words.
- :func:`tokenize` - content words in order: lowercase, accents kept, URLs and hashtags' ``#`` dropped, the
  language's stop words out (our English list plus the language's list from stopwords-iso), stemmed by
  the language's Snowball stemmer (PyStemmer); CJK and Thai text becomes character bigrams.
- :func:`key_phrases` - names (capitalised runs) and numbers, stemmed like :func:`tokenize`.
- :class:`DocumentFrequencies`, :func:`cosine`, :func:`top_terms` - sparse TF-IDF vectors as plain
  ``dict[str, float]``: documents hold a few hundred terms of an open vocabulary, and dictionaries keep
  the engine's state serialisable to JSON.

English stop words apply to every language (English words are mixed into most news text), so a Tagalog
or Chinese item never matches an English one through "the" or "of" left over.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from functools import lru_cache

import Stemmer
import stopwordsiso

Vector = dict[str, float]
PRIOR_DOCS = 20

# Words that carry no event: function words, reporting verbs and calendar words of news English.
STOPWORDS = frozenset(
    """
a about above after again against all also am an and any are aren as at be because been before being
below between both but by can cannot could couldn did didn do does doesn doing don down during each few
for from further had hadn has hasn have haven having he her here hers herself him himself his how i if
in into is isn it its itself just let ll me more most mustn my myself no nor not now of off on once only
or other ought our ours ourselves out over own re s same shan she should shouldn so some such t than
that the their theirs them themselves then there these they this those through to too under until up us
ve very was wasn we were weren what when where which while who whom why will with won would wouldn you
your yours yourself yourselves said says say told according new one two three year years day days week
weeks time today yesterday tomorrow monday tuesday wednesday thursday friday saturday sunday news report
reports reported reporting via mr mrs ms dr get got make made may might must many much like back first
last since still even well way go going shall yet per among amid upon within without however though
although whether every another
""".split()  # noqa: SIM905
)
# Snowball stemmers (PyStemmer) by ISO 639-1 code; other languages are left unstemmed.
_SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "eu": "basque", "fi": "finnish", "fr": "french", "ga": "irish",
    "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "ne": "nepali", "nl": "dutch", "no": "norwegian", "pt": "portuguese",
    "ro": "romanian", "ru": "russian", "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}  # fmt: skip
# Detected languages below this confidence fall back to English for Latin-script text: a short English
# headline is often guessed as something else, a real foreign-language item is usually recognised surely.
MIN_LANGUAGE_CONFIDENCE = 0.75
_URL = re.compile(r"(?:https?://|www\.)\S+|\b\S+\.(?:com|org|net|ly|tv|ph|co)/\S*", re.IGNORECASE)
_WORD = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"^\d[\d.,]*$")
# Scripts written without spaces: their words are found as overlapping character pairs.
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f\uf900-\ufaff]")
_UNSPACED_RUN = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f\uf900-\ufaff]+"
)
_CAP = re.compile(r"^[^\W\d_][\w'’.-]*$")
_SENTENCE_END = re.compile(r"[.!?:;\"“”()\[\]\n|–—-]")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_JOINERS = frozenset({"of", "de", "del", "la", "van", "von", "der", "al", "bin", "da", "di", "le", "du"})
# Upper-case abbreviations that would otherwise fold into a stop word ("U.S." and "US" are not "us").
_ABBREVIATIONS = {"U.S.": "usa", "US": "usa", "U.S": "usa"}


@lru_cache(maxsize=1)
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import _load_identifier  # the packaged model, loaded once, on first use

    return _load_identifier(None, norm_probs=True)


def detect_language(text: str) -> str:
    """ISO 639-1 code of ``text``'s language ("en" when unsure); "zh", "ja", "ko" or "th" by script."""
    sample = _URL.sub(" ", text[:400])
    unspaced = _UNSPACED.findall(sample)
    if len(unspaced) >= 4:
        if any("\u3040" <= c <= "\u30ff" for c in unspaced):
            return "ja"
        if any("\uac00" <= c <= "\ud7af" for c in unspaced):
            return "ko"
        if any("\u0e00" <= c <= "\u0e7f" for c in unspaced):
            return "th"
        return "zh"
    if len(_WORD.findall(sample)) < 3:
        return "en"
    language, confidence = _identifier().classify(sample)
    if language != "en" and confidence < MIN_LANGUAGE_CONFIDENCE:
        return "en"
    return str(language)


@lru_cache(maxsize=64)
def stop_words(language: str) -> frozenset[str]:
    """Our English list, plus the language's own list when it is not English."""
    if language == "en" or language not in stopwordsiso.langs():
        return STOPWORDS
    return STOPWORDS | frozenset(w.casefold() for w in stopwordsiso.stopwords(language))


@lru_cache(maxsize=64)
def _stemmer(language: str) -> Stemmer.Stemmer | None:
    algorithm = _SNOWBALL.get(language)
    return Stemmer.Stemmer(algorithm) if algorithm else None


@lru_cache(maxsize=200_000)
def stem(word: str, language: str = "en") -> str:
    """The Snowball stem of a lowercase word ("floods", "flooding" -> "flood"); numbers stay as they are."""
    stemmer = _stemmer(language)
    if stemmer is None or _NUMBER.match(word):
        return word
    return str(stemmer.stemWord(word))


def normalize(text: str) -> str:
    """Lowercase, accents folded, punctuation dropped, whitespace collapsed: for exact-match keys."""
    folded = text.casefold()
    if not folded.isascii():
        folded = _COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return " ".join(_WORD.findall(folded.replace("'", "").replace("’", "")))


def _fold(word: str) -> str:
    word = word.casefold().replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    word = word.replace("'", "")
    return word if _NUMBER.match(word) else word.replace(".", "")


def strip_urls(text: str) -> str:
    return _URL.sub(" ", text)


def _bigrams(run: str) -> list[str]:
    return [run] if len(run) < 2 else [run[i : i + 2] for i in range(len(run) - 1)]


def tokenize(text: str, language: str = "en") -> list[str]:
    """Content words of ``text`` in order (see the module docstring)."""
    stops = stop_words(language)
    out: list[str] = []
    for raw in _WORD.findall(_URL.sub(" ", text)):
        if _UNSPACED.search(raw):
            for part in re.split(f"({_UNSPACED_RUN.pattern})", raw):
                if _UNSPACED.match(part):
                    out.extend(_bigrams(part))
                elif part:
                    out.extend(tokenize(part, language))
            continue
        word = _ABBREVIATIONS.get(raw) or _fold(raw)
        if not word or word in stops or (len(word) == 1 and not word.isdigit()):
            continue
        out.append(stem(word, language))
    return out


def _mostly_capitalised(words: list[str]) -> bool:
    """Title Case headlines ("Fed's Plosser: Nasty Weather Has Curbed Job Growth") make every word a phrase."""
    alpha = [w for w in words if w[:1].isalpha() and w.casefold() not in STOPWORDS]
    if len(alpha) < 3:
        return False
    return sum(1 for w in alpha if w[:1].isupper()) / len(alpha) >= 0.9


def key_phrases(text: str, language: str = "en") -> list[str]:
    """Named-entity-ish phrases: runs of capitalised words ("Betty Ford Center") and numbers of 2+ digits.

    A capitalised word that opens a sentence counts only as part of a longer run or when it is not a
    common word; lines written in Title Case yield numbers only. Returned stemmed as :func:`tokenize`
    stems, in order, repeated as often as they occur (callers count them).
    """
    stops = stop_words(language)
    phrases: list[str] = []
    for line in _URL.sub(" ", text).splitlines():
        words = line.split()
        title_case = _mostly_capitalised(words)
        run: list[str] = []
        sentence_start = True

        def close(run: list[str], started: bool) -> None:
            while run and run[-1].casefold() in _JOINERS:
                run.pop()
            while run and _fold(run[0]) in stops:
                run.pop(0)
            if not run:
                return
            if len(run) == 1:
                word = _fold(run[0])
                if started or word in stops or len(word) < 2:
                    return
            phrases.append(" ".join(stem(_fold(w), language) for w in run))

        run_started_sentence = False
        for token in words:
            core = token.strip("\"'“”‘’()[],.!?:;«»#")
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
    the same (and the stop-word lists do the filtering) instead of the first few articles deciding that
    any word they share is common.
    """

    def __init__(self, prior_docs: int = PRIOR_DOCS) -> None:
        self.docs = 0
        self.prior_docs = prior_docs
        self.counts: Counter[str] = Counter()

    def add(self, terms: Iterable[str]) -> None:
        self.docs += 1
        self.counts.update(set(terms))

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
