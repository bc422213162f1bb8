"""Feed hygiene: what a feed repeats across its items is the feed's, not the item's.

A YouTube channel appends the same description to every video ("To watch TV Patrol videos, click ...",
"Subscribe to our channel", links, hashtags), a site ends every title with "| DZMM" or "- BBC News", a
newspaper signs every summary with its byline. Left in, these make every item of a feed look like every
other (whole channels become one story, different videos look like copies). :class:`FeedHygiene` learns,
per feed, the title segments and the five-word runs of summary text that recur in a large share of the
feed's recent items, and :meth:`FeedHygiene.clean` removes them before any similarity is computed.

Pure and bounded: each feed keeps its latest ``capacity`` items; an item is observed once (by id).
"""

from __future__ import annotations

import re
from collections import Counter, deque
from dataclasses import dataclass, field

from .text import normalize, strip_urls

CAPACITY = 200  # recent items per feed from which its boilerplate is learned
SHINGLE = 5  # words per run of text compared across a feed's items
MIN_REPEATS = 3  # a segment or run must recur in at least this many items ...
MIN_SHARE = 0.2  # ... and in at least this share of the feed's items to be boilerplate
_SEGMENT_SPLIT = re.compile(r"\s+[|–—-]\s+|\s*[|｜]\s*")
_HASHTAG = re.compile(r"(?<!\w)#\w+")


def title_segments(title: str) -> list[str]:
    return [s.strip() for s in _SEGMENT_SPLIT.split(title) if s.strip()]


def _shingles(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


@dataclass
class _Profile:
    items: deque[tuple[frozenset[str], frozenset[tuple[str, ...]]]] = field(default_factory=deque)
    segments: Counter[str] = field(default_factory=Counter)
    shingles: Counter[tuple[str, ...]] = field(default_factory=Counter)

    def bar(self) -> float:
        return max(MIN_REPEATS, MIN_SHARE * len(self.items))


@dataclass(frozen=True)
class Cleaned:
    title: str  # the title without the feed's recurring segments (the whole title if nothing else is left)
    body: str  # summary and text without the feed's recurring runs, URLs and hashtags
    boilerplate: float  # share of the summary's words that were the feed's boilerplate


class FeedHygiene:
    """Per-feed recurring title segments and text runs (see the module docstring)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._profiles: dict[str, _Profile] = {}
        self._seen: dict[str, None] = {}

    def observe(self, item_id: str, feed: str, title: str, summary: str) -> None:
        """Count an item of ``feed`` (once per id) in the feed's profile."""
        if item_id in self._seen or not feed:
            return
        self._seen[item_id] = None
        if len(self._seen) > 50 * self.capacity:
            for old in list(self._seen)[: len(self._seen) // 2]:
                del self._seen[old]
        profile = self._profiles.setdefault(feed, _Profile())
        segments = frozenset(normalize(s) for s in title_segments(title))
        shingles = frozenset(_shingles(_words(summary)))
        profile.items.append((segments, shingles))
        profile.segments.update(segments)
        profile.shingles.update(shingles)
        if len(profile.items) > self.capacity:
            old_segments, old_shingles = profile.items.popleft()
            profile.segments.subtract(old_segments)
            profile.shingles.subtract(old_shingles)
            for key in [k for k in old_segments if profile.segments[k] <= 0]:
                del profile.segments[key]
            for run in [k for k in old_shingles if profile.shingles[k] <= 0]:
                del profile.shingles[run]

    def clean(self, feed: str, title: str, summary: str, text: str = "") -> Cleaned:
        profile = self._profiles.get(feed)
        if profile is None:
            return Cleaned(title, _strip(summary + "\n" + text), 0.0)
        bar = profile.bar()
        kept = [s for s in title_segments(title) if profile.segments.get(normalize(s), 0) < bar]
        clean_title = " - ".join(kept) if kept else title
        words = _words(summary)
        raw = strip_urls(_HASHTAG.sub(" ", summary)).split()
        boiler = [False] * len(words)
        for i in range(len(words) - SHINGLE + 1):
            if profile.shingles.get(tuple(words[i : i + SHINGLE]), 0) >= bar:
                for j in range(i, i + SHINGLE):
                    boiler[j] = True
        # ``words`` and ``raw`` are aligned: both split the same URL- and hashtag-free text on whitespace.
        body = " ".join(w for w, b in zip(raw, boiler, strict=False) if not b)
        share = sum(boiler) / len(boiler) if boiler else 0.0
        return Cleaned(clean_title, _strip(body + "\n" + text), share)


def _strip(text: str) -> str:
    return strip_urls(_HASHTAG.sub(" ", text)).strip()


def _words(summary: str) -> list[str]:
    """The summary's words for comparing runs across items: URLs and hashtags out, normalised, one per
    whitespace-separated token (so that positions match the raw tokens)."""
    return [normalize(w) or "_" for w in strip_urls(_HASHTAG.sub(" ", summary)).split()]
