"""Weighted terms for relating stories and inferring topics: content words and name phrases.

Words come from the one tokeniser (:mod:`aggregator.stories.text`: the item's language, its stop words and
stemmer); this module adds capitalised name phrases as written ("Terry Pratchett", "European Union"), the
strongest topical evidence a headline carries, and the field weights of an article's terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .text import STOPWORDS, detect_language, stem, tokenize

__all__ = ["STOPWORDS", "article_terms", "content_terms", "name_phrases", "names_as_written", "stem"]

# Capitalised words that start a name phrase only when followed by another capitalised word.
_WEAK_CAPS = STOPWORDS | frozenset(["new", "mr", "mrs", "ms", "dr", "sir"])


def content_terms(text: str, language: str = "en") -> list[str]:
    """Stemmed content words of ``text`` (:func:`aggregator.stories.text.tokenize`), numbers dropped."""
    return [t for t in tokenize(text, language) if not t[:1].isdigit()]


def name_phrases(text: str, *, sentence_starts: bool = False) -> list[str]:
    """Capitalised phrases ("Terry Pratchett", "Islamic State", "NHS") in ``text``, lowercased.

    A single capitalised word at the start of a sentence is ambiguous (any sentence starts that way) and is
    kept only when it is all capitals (an acronym), or with ``sentence_starts`` (for looking up known names).
    Joining words ("of", "de", "bin") may sit inside a name; punctuation, a sentence end and a possessive end
    one ("Zuckerberg's Facebook" gives two).
    """
    return [p.lower() for p in names_as_written(text, sentence_starts=sentence_starts)]


def names_as_written(text: str, *, sentence_starts: bool = False) -> list[str]:
    """The phrases of :func:`name_phrases` as they are written ("Bank of England"), for display."""
    phrases: list[str] = []
    for match in _NAME.finditer(text):
        before = text[: match.start()].rstrip()
        at_start = not before or before[-1] in _SENTENCE_MARKS
        current: list[str] = []
        for raw in match.group().split():
            token = raw.replace("’", "'")
            ends = token.endswith("'s") or (token.endswith(".") and not _ABBREVIATION.fullmatch(token))
            word = token.removesuffix("'s").strip(".-&'")
            if word and (current or word.lower() not in _WEAK_CAPS or (len(word) > 1 and word.isupper())):
                current.append(word)
            if ends:
                _emit(current, at_start and not sentence_starts, phrases)
                current = []
                at_start = token.endswith(".")
        _emit(current, at_start and not sentence_starts, phrases)
    return phrases


def _emit(words: list[str], at_start: bool, out: list[str]) -> None:
    while words and words[-1] in _JOINERS:
        words.pop()
    if not words:
        return
    phrase = " ".join(words)
    acronym = len(phrase) > 1 and phrase.isupper()
    if (len(words) > 1 or not at_start or acronym) and (acronym or phrase.lower() not in STOPWORDS):
        out.append(phrase)


_JOINERS = frozenset({"of", "de", "la", "del", "von", "van", "der", "bin", "al", "le", "du", "da"})
_CAPITAL = "A-ZÀ-ÖØ-Þ"
_NAME_WORD = rf"[{_CAPITAL}][\w&'’.-]*"
_NAME = re.compile(rf"(?<![\w'’]){_NAME_WORD}(?:\s+(?:(?:{'|'.join(sorted(_JOINERS))})\s+)*{_NAME_WORD})*")
_SENTENCE_MARKS = frozenset('.!?:;"“”|—–-')
_ABBREVIATION = re.compile(r"(?:[A-Z]\.)+|Mr\.|Mrs\.|Ms\.|Dr\.|St\.")


def weighted_terms(fields: Iterable[tuple[str, float]], language: str = "en") -> dict[str, float]:
    """Term counts over several (text, weight) fields: words as-is, name phrases prefixed with ``@``."""
    counts: dict[str, float] = {}
    for text, weight in fields:
        if not text:
            continue
        for term in content_terms(text, language):
            counts[term] = counts.get(term, 0.0) + weight
        for phrase in name_phrases(text):
            key = "@" + phrase
            counts[key] = counts.get(key, 0.0) + weight * NAME_WEIGHT
    return counts


# Field weights: a headline says what the article is about, the lede sums it up, the body adds detail.
TITLE_WEIGHT = 3.0
SUMMARY_WEIGHT = 2.0
BODY_WEIGHT = 1.0
NAME_WEIGHT = 1.0  # on top of the name's words: "Terry Pratchett" counts as terry, pratchett and the phrase
BODY_CHARS = 3000  # the first paragraphs carry the topic; the rest mostly adds noise and cost


def article_terms(title: str, summary: str = "", text: str = "") -> dict[str, float]:
    """Weighted terms of one article: its title, summary and the start of its body."""
    language = detect_language(f"{title}\n{summary}\n{text[:300]}")
    return weighted_terms(
        [(title, TITLE_WEIGHT), (summary, SUMMARY_WEIGHT), (text[:BODY_CHARS], BODY_WEIGHT)], language
    )
