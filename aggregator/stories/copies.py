"""Syndicated copies: the same article republished, by any outlet, within the time window.

A copy has a near-identical title and near-identical text once feed hygiene has removed each feed's
boilerplate: an AAP story in two newspapers, a feed re-posting an item with a small title edit. Two
videos of one channel share their description but not their title, so they are not copies; two items
with no text left are copies only when their titles are near-identical and they appeared within a day.

Compared on title character 4-grams and on three-word runs of the cleaned text; candidates come from an
index on the title's grams and the text's rarest-hashed runs (a bounded MinHash sketch), never a scan.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from .features import jaccard, title_grams
from .text import normalize

TITLE_SAME = 0.8  # title 4-gram resemblance of a copy
TEXT_SAME = 0.6  # ... with this resemblance of the cleaned text
TEXT_ONLY_SAME = 0.85  # a retitled copy: the text alone, when long enough
MIN_TEXT_WORDS = 25
SHORT_TEXT = 8  # fewer words than this left after hygiene: the title decides
SHORT_WINDOW = timedelta(hours=36)
SKETCH = 4
MAX_POSTINGS = 50
MAX_ITEMS = 50_000  # originals kept at most (a bound for undated streams)


def _runs(body: str) -> frozenset[str]:
    words = normalize(body).split()
    return frozenset(" ".join(words[i : i + 3]) for i in range(len(words) - 2))


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


@dataclass(frozen=True)
class _Original:
    id: str
    story_id: int
    grams: frozenset[str]
    runs: frozenset[str]
    words: int
    published: datetime | None
    keys: frozenset[int]


class CopyIndex:
    def __init__(self, window: timedelta) -> None:
        self.window = window
        self._items: dict[str, _Original] = {}
        self._postings: dict[int, deque[str]] = {}
        self._order: deque[tuple[datetime | None, str]] = deque()

    def __len__(self) -> int:
        return len(self._items)

    def _keys(self, grams: frozenset[str], runs: frozenset[str]) -> set[int]:
        keys = set(sorted(_hash("t" + g) for g in grams)[:SKETCH])
        keys |= set(sorted(_hash("b" + r) for r in runs)[:SKETCH])
        return keys

    def find(self, title: str, body: str, published: datetime | None) -> tuple[str, int] | None:
        """The original (id, story id) this is a copy of, or None."""
        grams, runs = title_grams(title), _runs(body)
        words = len(body.split())
        seen: set[str] = set()
        best: tuple[float, str, int] | None = None
        for key in self._keys(grams, runs):
            for item_id in self._postings.get(key, ()):
                if item_id in seen or item_id not in self._items:
                    continue
                seen.add(item_id)
                item = self._items[item_id]
                score = self._same(item, grams, runs, words, published)
                if score is not None and (best is None or score > best[0]):
                    best = (score, item.id, item.story_id)
        return (best[1], best[2]) if best else None

    def _same(
        self,
        item: _Original,
        grams: frozenset[str],
        runs: frozenset[str],
        words: int,
        published: datetime | None,
    ) -> float | None:
        if (
            published is not None
            and item.published is not None
            and abs(published - item.published) > self.window
        ):
            return None
        title = jaccard(grams, item.grams)
        if words < SHORT_TEXT and item.words < SHORT_TEXT:
            close = (
                published is None or item.published is None or abs(published - item.published) <= SHORT_WINDOW
            )
            return title if title >= TITLE_SAME and close else None
        text = jaccard(runs, item.runs)
        if title >= TITLE_SAME and text >= TEXT_SAME:
            return title + text
        if text >= TEXT_ONLY_SAME and min(words, item.words) >= MIN_TEXT_WORDS:
            return title + text
        return None

    def add(self, item_id: str, story_id: int, title: str, body: str, published: datetime | None) -> None:
        if item_id in self._items:
            return
        grams, runs = title_grams(title), _runs(body)
        keys = frozenset(self._keys(grams, runs))
        self._items[item_id] = _Original(item_id, story_id, grams, runs, len(body.split()), published, keys)
        for key in keys:
            posting = self._postings.setdefault(key, deque())
            posting.append(item_id)
            if len(posting) > MAX_POSTINGS:
                posting.popleft()
        self._order.append((published, item_id))
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
        for key in item.keys:
            posting = self._postings.get(key)
            if posting is not None and item_id in posting:
                posting.remove(item_id)
                if not posting:
                    del self._postings[key]
