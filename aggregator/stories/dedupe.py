"""Pure near-duplicate detection: is this article a copy of one we already have?

Policy: **a false merge is worse than a miss.** Two outlets running the same wire story are one item with
several outlets ("also published by"); but calling two different reports one item hides a report from the
reader, while a missed copy only shows the same text twice inside one story (the clustering still groups it).
So the rules are strict:

- Texts with at least ``MIN_WORDS`` words are compared by a 256-bit SimHash over word 4-shingles of the
  normalised title and text. The share of differing bits estimates the angle between the two shingle
  sets (Charikar 2002), so ``resemblance = cos(pi * distance / 256)`` estimates their cosine; a copy needs
  the configured resemblance (0.9: about 37 differing bits): light edits, a different byline or a credit
  line still match; a rewrite of the same facts does not. 256 bits rather than 64 because a 64-bit
  SimHash of a short wire item is too noisy to tell "a credit line added" from "a different report".
- Shorter texts (headline only, or headline and a line of summary) carry too little for a fingerprint to
  mean anything: two outlets often write the same short headline about *different* events ("Earthquake
  hits Japan"). They are copies only when the normalised title and summary are identical **and** they come
  from different outlets **and** within ``window`` of each other; one outlet repeating a short headline is
  a recurring column ("Morning briefing"), not a copy.
- A copy points to the first article of its group (the original), never to another copy.

The fingerprint is a string stored in ``Article.fingerprint``: 64 hex digits (SimHash) or ``"h"`` + 16 hex
digits (hash of the normalised short text). :class:`DuplicateIndex` finds the original of a copy without a
scan: a SimHash is split into 16 bands of 16 bits and only fingerprints sharing a band exactly are compared
(a copy at the threshold shares at least one band with probability about 0.8, closer copies almost surely;
a miss is the acceptable error); entries older than the time window are expired.
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from .doc import ArticleDoc
from .text import normalize

MIN_WORDS = 40  # below this many words a text is "short": exact matching only
MAX_WORDS = 1000
SHINGLE = 4
BITS = 256
BANDS = 16
BAND_BITS = BITS // BANDS
_BIT_WEIGHTS = np.array([1 << i for i in range(8)], dtype=np.uint8)


_LANE_OFFSETS = [np.uint64((0x9E3779B97F4A7C15 * lane) % 2**64) for lane in range(1, BITS // 64 + 1)]
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _hashes(items: list[str]) -> np.ndarray:
    """BITS hash bits per item: a 64-bit blake2b, widened by splitmix64 into BITS // 64 independent lanes."""
    data = b"".join(hashlib.blake2b(item.encode("utf-8"), digest_size=8).digest() for item in items)
    seeds = np.frombuffer(data, dtype="<u8")
    lanes = []
    for offset in _LANE_OFFSETS:
        x = seeds + offset
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
        lanes.append(x ^ (x >> np.uint64(31)))
    return np.stack(lanes, axis=1).astype("<u8").view(np.uint8).reshape(len(items), BITS // 8)


def simhash(words: list[str]) -> int:
    """256-bit SimHash of the word shingles of ``words`` (each distinct shingle counted once)."""
    shingles = sorted({" ".join(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))})
    bits = np.unpackbits(_hashes(shingles), axis=1, bitorder="little")
    votes = bits.sum(axis=0, dtype=np.int64) * 2 > len(shingles)
    return int.from_bytes(np.packbits(votes, bitorder="little").tobytes(), "little")


def doc_words(doc: ArticleDoc) -> list[str]:
    """Normalised words of title, summary and text; the first MAX_WORDS are enough to recognise a copy."""
    text = " ".join(part for part in (doc.title, doc.summary, doc.text) if part)
    return normalize(" ".join(text.split(maxsplit=MAX_WORDS)[:MAX_WORDS])).split()


def fingerprint(doc: ArticleDoc) -> str:
    """The content fingerprint stored in ``Article.fingerprint`` (see the module policy)."""
    words = doc_words(doc)
    if len(words) >= MIN_WORDS:
        return f"{simhash(words):064x}"
    digest = hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).hexdigest()
    return f"h{digest}"


def distance(a: str, b: str) -> int:
    """Hamming distance between two SimHash fingerprints (all bits when either is not a SimHash)."""
    if not (_is_simhash(a) and _is_simhash(b)):
        return 0 if a == b else BITS
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _is_simhash(fp: str) -> bool:
    return len(fp) == BITS // 4


def resemblance_of(bits: int) -> float:
    """Estimated cosine between two shingle sets whose SimHashes differ in ``bits`` bits."""
    return math.cos(math.pi * min(bits, BITS // 2) / BITS)


@dataclass(frozen=True)
class _Entry:
    article_id: str
    fingerprint: str
    source: str
    published: datetime | None


class DuplicateIndex:
    """Originals seen within the time window, found by fingerprint in constant time per band."""

    def __init__(self, threshold: float = 0.9, window: timedelta = timedelta(hours=72)) -> None:
        self.max_distance = int(BITS * math.acos(threshold) / math.pi)
        self.window = window
        self._entries: dict[str, _Entry] = {}
        self._bands: dict[tuple[int, int], list[str]] = defaultdict(list)
        self._exact: dict[str, list[str]] = defaultdict(list)
        self._expiry: list[tuple[datetime, str]] = []

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, article_id: str) -> bool:
        return article_id in self._entries

    @staticmethod
    def _band_keys(fp: str) -> list[tuple[int, int]]:
        value = int(fp, 16)
        return [(i, (value >> (i * BAND_BITS)) & ((1 << BAND_BITS) - 1)) for i in range(BANDS)]

    def find(self, fp: str, source: str, published: datetime | None) -> tuple[str, float] | None:
        """The original ``(article_id, resemblance)`` of a copy with this fingerprint, or None."""
        best: tuple[int, str] | None = None
        if _is_simhash(fp):
            seen: set[str] = set()
            for key in self._band_keys(fp):
                for article_id in self._bands.get(key, ()):
                    if article_id in seen:
                        continue
                    seen.add(article_id)
                    entry = self._entries[article_id]
                    d = distance(fp, entry.fingerprint)
                    if d <= self.max_distance and self._close(entry, published):
                        candidate = (d, article_id)
                        if best is None or candidate < best:
                            best = candidate
        else:
            for article_id in self._exact.get(fp, ()):
                entry = self._entries[article_id]
                if entry.source != source and self._close(entry, published):
                    best = (0, article_id)
                    break
        return None if best is None else (best[1], round(resemblance_of(best[0]), 4))

    def _close(self, entry: _Entry, published: datetime | None) -> bool:
        if entry.published is None or published is None:
            return True
        return abs(published - entry.published) <= self.window

    def add(self, article_id: str, fp: str, source: str, published: datetime | None) -> None:
        """Remember an original (copies are not added: they point to their original)."""
        if article_id in self._entries:
            return
        self._entries[article_id] = _Entry(article_id, fp, source, published)
        if _is_simhash(fp):
            for key in self._band_keys(fp):
                self._bands[key].append(article_id)
        else:
            self._exact[fp].append(article_id)
        if published is not None:
            heapq.heappush(self._expiry, (published, article_id))

    def expire(self, before: datetime) -> list[str]:
        """Forget originals published before ``before``; returns their ids."""
        gone = []
        while self._expiry and self._expiry[0][0] < before:
            _, article_id = heapq.heappop(self._expiry)
            entry = self._entries.pop(article_id, None)
            if entry is None:
                continue
            gone.append(article_id)
            if _is_simhash(entry.fingerprint):
                for key in self._band_keys(entry.fingerprint):
                    self._remove(self._bands, key, article_id)
            else:
                self._remove(self._exact, entry.fingerprint, article_id)
        return gone

    @staticmethod
    def _remove(table: dict[..., list[str]], key: object, article_id: str) -> None:  # type: ignore[misc]
        ids = table.get(key)
        if ids is None:
            return
        ids.remove(article_id)
        if not ids:
            del table[key]
