"""Pure text features for relating stories and inferring topics: word terms and name phrases.

Kept small and dependency-free: lowercase word tokens with English stop words removed and a light
suffix stripper ("floods" and "flooding" meet "flood"), and capitalised name phrases ("Terry Pratchett",
"European Union") found in running text, which are the strongest topical evidence a headline carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_WORD = re.compile(r"[^\W\d_][\w'’-]*[^\W_]|[^\W\d_]", re.UNICODE)


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS = _word_set(
    """
    a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
    don't down during each few for from further had hadn't has hasn't have haven't having he he'd he'll
    he's her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't
    it it's its itself let's me more most mustn't my myself no nor not of off on once only or other
    ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some
    such than that that's the their theirs them themselves then there there's these they they'd they'll
    they're they've this those through to too under until up very was wasn't we we'd we'll we're we've
    were weren't what what's when when's where where's which while who who's whom why why's with won't
    would wouldn't you you'd you'll you're you've your yours yourself yourselves says said say will just
    now new one two three first last year years week day days time may like get got make made many much
    even still back well way us go going might must shall yet per via among amid since upon within
    without however though although whether every another
    """
)

# Capitalised words that start a name phrase only when followed by another capitalised word.
_WEAK_CAPS = STOP_WORDS | _word_set("new mr mrs ms dr sir")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light English suffix stripper: plural and common verb endings only, so names survive."""
    if len(word) <= 4:
        return word
    for suffix, replacement in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ings", ""),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("es", "e"),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            base = word[: -len(suffix)] + replacement
            if (
                suffix in ("ing", "ed", "ings", "edly")
                and len(base) > 2
                and base[-1] == base[-2]
                and base[-1] not in "lsz"
            ):
                base = base[:-1]  # "stopped" -> "stop"
            return base
    return word


def words(text: str) -> list[str]:
    """Lowercase word tokens, apostrophes folded ("Britain's" -> "britain")."""
    return [w[:-2] if w.endswith("'s") else w for w in _WORD.findall(text.lower().replace("’", "'"))]


def content_terms(text: str) -> list[str]:
    """Stemmed content words of ``text``: stop words, one-letter words and digits dropped."""
    return [stem(w) for w in words(text) if len(w) > 1 and w not in STOP_WORDS]


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
    if (len(words) > 1 or not at_start or acronym) and (acronym or phrase.lower() not in STOP_WORDS):
        out.append(phrase)


_JOINERS = frozenset({"of", "de", "la", "del", "von", "van", "der", "bin", "al", "le", "du", "da"})
_CAPITAL = "A-ZÀ-ÖØ-Þ"
_NAME_WORD = rf"[{_CAPITAL}][\w&'’.-]*"
_NAME = re.compile(rf"(?<![\w'’]){_NAME_WORD}(?:\s+(?:(?:{'|'.join(sorted(_JOINERS))})\s+)*{_NAME_WORD})*")
_SENTENCE_MARKS = frozenset('.!?:;"“”|—–-')
_ABBREVIATION = re.compile(r"(?:[A-Z]\.)+|Mr\.|Mrs\.|Ms\.|Dr\.|St\.")


def weighted_terms(fields: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Term counts over several (text, weight) fields: words as-is, name phrases prefixed with ``@``."""
    counts: dict[str, float] = {}
    for text, weight in fields:
        if not text:
            continue
        for term in content_terms(text):
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
    return weighted_terms(
        [(title, TITLE_WEIGHT), (summary, SUMMARY_WEIGHT), (text[:BODY_CHARS], BODY_WEIGHT)]
    )
