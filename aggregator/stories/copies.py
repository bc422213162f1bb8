"""Syndicated copies: the same article republished, by any outlet, within the time window.

A copy is, once feed hygiene has removed each feed's boilerplate: a near-identical title over
near-identical text (an AAP story in two newspapers); one headline in another feed over reworded text
(a wire headline each outlet summarises its own way); a near-identical title where one side has no text
left (a headline-only feed item); the same long text retitled (or most of a long one, starting the same
way); or a wire story lightly edited in both. A copy is indexed too, so a variant of it finds the original.
Not copies: two videos of one channel sharing their description but not their title; one feed's daily
list under a fixed headline (new text each day); two editions of a dated series (their titles' numbers
differ, read from the title as published because hygiene may strip the date as boilerplate); a
renamed live blog and a news item sharing text (a non-news item is a copy only of a near-identical title).

Compared on title character 4-grams and on three-word runs of the cleaned text; candidates come from an
index on the title's grams and the text's rarest-hashed runs (a bounded MinHash sketch), never a scan.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from .features import jaccard, title_grams
from .text import normalize

TITLE_SAME = 0.8  # title 4-gram resemblance of a copy
TEXT_SAME = 0.6  # ... with this resemblance of the cleaned text
TITLE_IDENTICAL = 0.95  # one headline within SHORT_WINDOW ...
TEXT_NOT_OTHER = 0.3  # ... over texts this alike (a daily list under one headline has new text each day)
TITLE_EDITED = 0.4  # an edited wire headline ...
LONG_TEXT_WORDS = 20  # ... over at least this much text at TEXT_SAME
TEXT_ONLY_SAME = 0.85  # a retitled copy: the text alone, when long enough ...
MIN_TEXT_WORDS = 20
LONG_TEXT_ONLY = 0.6  # ... or most of a long text (a feed's own rewrite of the headline over one article)
LONG_TEXT = 40
LEAD_WORDS = 12  # ... that starts the same way (a channel's description, not yet learned, is at its end)
SHORT_TEXT = 8  # fewer words than this left after hygiene on either side: the title decides
SHORT_WINDOW = timedelta(hours=36)
SKETCH = 4
MAX_POSTINGS = 50
MAX_ITEMS = 50_000  # originals kept at most (a bound for undated streams)


def _runs(body: str) -> frozenset[str]:
    words = normalize(body).split()
    return frozenset(" ".join(words[i : i + 3]) for i in range(len(words) - 2))


def _numbers(title: str) -> frozenset[str]:
    return frozenset(re.findall(r"\d+", title))  # "28" and "28th" are one number


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class CopyText:
    """What an item is compared on, computed once per item (for finding its original and for being one)."""

    grams: frozenset[str]  # the cleaned title's character 4-grams
    runs: frozenset[str]  # three-word runs of the cleaned text
    words: int
    published: datetime | None
    numbers: frozenset[str]  # the published title's numbers: two daily updates differ in their dates
    feed: str
    news: bool  # False for a live blog, a round-up ...: a copy of one needs a near-identical headline
    keys: frozenset[int]  # its postings in the index: the lowest hashes of its grams and runs
    lead: frozenset[str] = frozenset()  # the runs of the text's first words (where a republished text agrees)

    @classmethod
    def of(
        cls,
        title: str,
        body: str,
        published: datetime | None,
        *,
        feed: str = "",
        news: bool = True,
        headline: str = "",
    ) -> CopyText:
        """``title`` and ``body`` after feed hygiene; ``headline`` the title as published (its numbers, which
        hygiene may have removed as a feed's recurring segment, tell two editions of a dated series apart)."""
        grams, runs = title_grams(title), _runs(body)
        keys = set(sorted(_hash("t" + g) for g in grams)[:SKETCH])
        keys |= set(sorted(_hash("b" + r) for r in runs)[:SKETCH])
        return cls(
            grams,
            runs,
            len(body.split()),
            published,
            _numbers(headline or title),
            feed,
            news,
            frozenset(keys),
            _runs(" ".join(normalize(body).split()[:LEAD_WORDS])),
        )


@dataclass(frozen=True)
class _Original:
    id: str  # the original's id (a copy is indexed too, for the variants after it, under its original)
    story_id: int
    text: CopyText


class CopyIndex:
    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._items: dict[str, _Original] = {}
        self._postings: dict[int, deque[str]] = {}
        self._order: deque[tuple[datetime | None, str]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def find(self, text: CopyText) -> tuple[str, int] | None:
        """The original (id, story id) ``text`` is a copy of, or None. Between a non-news item (a live blog, a
        round-up: the same text under each day's headline) and anything else only a near-identical headline
        makes a copy."""
        seen: set[str] = set()
        best: tuple[float, str, int] | None = None
        for key in text.keys:
            for item_id in self._postings.get(key, ()):
                if item_id in seen or item_id not in self._items:
                    continue
                seen.add(item_id)
                item = self._items[item_id]
                score = self._same(item.text, text)
                if (
                    score is not None
                    and not (text.news and item.text.news)
                    and jaccard(text.grams, item.text.grams) < TITLE_SAME
                ):
                    score = None
                if score is not None and (best is None or score > best[0]):
                    best = (score, item.id, item.story_id)
        return (best[1], best[2]) if best else None

    def _same(self, item: CopyText, new: CopyText) -> float | None:
        published = new.published
        if (
            published is not None
            and item.published is not None
            and abs(published - item.published) > self.window
        ):
            return None
        if new.numbers and item.numbers and new.numbers != item.numbers:
            return None  # two editions of a dated series, two counts
        title = jaccard(new.grams, item.grams)
        close = published is None or item.published is None or abs(published - item.published) <= SHORT_WINDOW
        shortest = min(new.words, item.words)
        if shortest < SHORT_TEXT:
            # One side has no text left (a headline-only feed item): the title decides.
            return title if title >= TITLE_SAME and close else None
        text = jaccard(new.runs, item.runs)
        if title >= TITLE_IDENTICAL and close and (text >= TEXT_NOT_OTHER or new.feed != item.feed):
            # One headline over reworded text: a wire story in another feed, or the same feed's item
            # re-posted (not one feed's daily list under a fixed headline, which has new text each day).
            return title + text
        if title >= TITLE_SAME and text >= TEXT_SAME:
            return title + text
        if (text >= TEXT_ONLY_SAME and shortest >= MIN_TEXT_WORDS) or (
            text >= LONG_TEXT_ONLY and shortest >= LONG_TEXT and jaccard(new.lead, item.lead) >= TEXT_SAME
        ):
            return title + text  # retitled: the text alone, when there is enough of it
        if text >= TEXT_SAME and title >= TITLE_EDITED and shortest >= LONG_TEXT_WORDS:
            return title + text  # a wire story lightly edited in both title and text, same numbers
        return None

    def add(self, item_id: str, story_id: int, text: CopyText, original: str | None = None) -> None:
        """Index ``item_id``; a copy is indexed too (``original`` its original's id), so that a variant of the
        copy ("Deaths soar in a country ..." after "Deaths soar in country ...") finds the same original."""
        if item_id in self._items:
            return
        self._items[item_id] = _Original(original or item_id, story_id, text)
        for key in text.keys:
            posting = self._postings.setdefault(key, deque())
            posting.append(item_id)
            if len(posting) > MAX_POSTINGS:
                posting.popleft()
        self._order.append((text.published, item_id))
        while len(self._order) > MAX_ITEMS:
            self._forget(self._order.popleft()[1])

    def expire(self, now: datetime) -> None:
        """Forget originals older than the window (arrival is roughly in time order; undated ones leave
        when a dated one behind them does, or beyond ``MAX_ITEMS``)."""
        horizon = now - self.window
        while self._order and (self._order[0][0] or horizon) <= horizon:
            self._forget(self._order.popleft()[1])

    def _forget(self, item_id: str) -> None:
        item = self._items.pop(item_id, None)
        if item is None:
            return
        for key in item.text.keys:
            posting = self._postings.get(key)
            if posting is not None and item_id in posting:
                posting.remove(item_id)
                if not posting:
                    del self._postings[key]
