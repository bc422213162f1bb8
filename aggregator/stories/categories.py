"""Feed categories cleaned before they become topics. Pure: no I/O.

    raw categories of an entry (+ its author, its feed's names and vocabulary)
      -> clean_category: ids, UUIDs, numbers, paywall and format markers, the feed's own name, the author,
         section paths ("fnc/sports", "fox-news/politics") dropped; a deeper path keeps its last segment when
         that is a real subject ("fox-news/person/joe-biden" -> "Joe Biden")
      -> FeedVocabulary.clean: also drops the feed's ``ignore_categories`` and the categories it attaches to
         nearly all its items (at least ``BLANKET_SHARE`` of ``BLANKET_MIN_ITEMS`` or more recent items)

The same rules define a junk topic chip in ``aggregator eval chips`` (:func:`is_junk_label`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .topics import fold

__all__ = [
    "BLANKET_MIN_ITEMS",
    "BLANKET_SHARE",
    "MARKERS",
    "FeedVocabulary",
    "blanket_categories",
    "clean_categories",
    "clean_category",
    "is_junk_label",
]

BLANKET_SHARE = 0.5
BLANKET_MIN_ITEMS = 10
MAX_WORDS = 8

# Paywall, format and feed-plumbing markers (folded): never topics.
MARKERS = frozenset(
    {
        "paid", "premium", "free", "subscriber", "subscribers", "subscriber only", "subscribers only", "members only",
        "exclusive", "sponsored", "sponsored content", "partner content", "advertorial", "ad", "ads",
        "video", "videos", "audio", "podcast", "podcasts", "photo", "photos", "gallery", "galleries", "image",
        "images", "live", "live blog", "liveblog", "article", "articles", "story", "stories", "post", "posts",
        "fnc", "fox news", "news", "latest", "latest news", "breaking", "breaking news", "top stories",
        "top story", "top news", "headlines", "home", "homepage", "home page", "front page", "frontpage",
        "main", "general", "uncategorized", "uncategorised", "misc", "miscellaneous", "other", "default", "none",
        "null", "rss", "feed", "feeds", "syndication", "wire", "index", "amp", "mobile", "app", "web", "online",
        "featured", "feature", "features", "editors picks", "editor s picks", "most read", "most popular",
        "trending", "opinion", "opinions", "analysis", "commentary", "blog", "blogs", "newsletter", "newsletters",
        "associated press", "ap", "reuters", "afp", "agence france presse", "press association", "pa", "aap",
        "person", "organization", "organisation", "place", "topic", "topics", "section", "category",
    }
)  # fmt: skip
# Folded prefixes of feed-internal labels ("your-feed-science").
_MARKER_PREFIXES = ("your feed ", "feed ", "section ", "tag ", "category ", "topic ", "rss ")

_UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)
_ID = re.compile(r"^(?:[a-z]{0,4}[-_:]?)?[0-9][0-9a-f_:.-]*$|^[0-9a-f]{12,}$", re.IGNORECASE)
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)+$")
_HAS_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


def _words_of_slug(segment: str) -> str:
    """``joe-biden`` -> ``Joe Biden``; ``2020-presidential-election`` -> ``2020 Presidential Election``."""
    return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[-_]+", segment) if w)


def _is_name_of(label: str, names: Iterable[str], brands: Iterable[str]) -> bool:
    """Whether ``label`` is one of the feed's ``names`` (its title: matched whole, as "California" is also a
    subject), or carries one of its ``brands`` (outlet names and keys) or a multi-word name ("Fox News Flash")."""
    key = f" {fold(label)} "
    for name in names:
        other = fold(name)
        if other and (key == f" {other} " or (" " in other and f" {other} " in key)):
            return True
    for brand in brands:
        other = fold(brand)
        if other and f" {other} " in key:
            return True
    return False


def clean_category(
    label: str, names: Iterable[str] = (), author: str | None = None, brands: Iterable[str] = ()
) -> str | None:
    """The topic a raw category stands for, or None when it is no topic (see the module docstring).

    ``names``: the feed's own titles; ``brands``: its outlet's name and key; ``author``: the entry's author.
    """
    text = " ".join((label or "").split())
    if not text or not _HAS_LETTER.search(text):
        return None
    if _UUID.match(text) or _ID.match(text):
        return None
    if "/" in text:
        parts = [p for p in text.strip("/").split("/") if p]
        if len(parts) < 3:  # "fnc/sports", "fox-news/politics": a feed's section, not a subject
            return None
        text = parts[-1]
        if _UUID.match(text) or _ID.match(text):
            return None
        text = _words_of_slug(text)
    elif _SLUG.match(text):
        text = _words_of_slug(text)
    key = fold(text)
    if not key or key in MARKERS or any(key.startswith(p) for p in _MARKER_PREFIXES):
        return None
    if len(key.split()) > MAX_WORDS or len(key) < 2:
        return None
    if author and fold(author) and fold(author) == key:
        return None
    if _is_name_of(text, names, brands):
        return None
    return text


def clean_categories(
    labels: Iterable[str], names: Iterable[str] = (), author: str | None = None, brands: Iterable[str] = ()
) -> list[str]:
    """Cleaned topics of one entry, first occurrence of each key kept, order kept."""
    names, brands = tuple(names), tuple(brands)
    seen: dict[str, str] = {}
    for label in labels:
        cleaned = clean_category(label, names, author, brands)
        if cleaned is not None:
            seen.setdefault(fold(cleaned), cleaned)
    return list(seen.values())


def blanket_categories(
    items: Sequence[Sequence[str]], share: float = BLANKET_SHARE, min_items: int = BLANKET_MIN_ITEMS
) -> frozenset[str]:
    """Folded categories a feed attaches to at least ``share`` of its recent items (given as each item's
    categories), when it has at least ``min_items`` items: they describe the feed, not the item."""
    if len(items) < min_items:
        return frozenset()
    counts: Counter[str] = Counter()
    for categories in items:
        counts.update({fold(c) for c in categories if fold(c)})
    return frozenset(key for key, n in counts.items() if n >= share * len(items))


@dataclass(frozen=True)
class FeedVocabulary:
    """What one feed's categories are cleaned with."""

    names: tuple[str, ...] = ()  # the feed's title
    brands: tuple[str, ...] = ()  # its outlet's name and key
    ignore: frozenset[str] = frozenset()  # folded ``ignore_categories`` of the feed's settings
    blanket: frozenset[str] = field(default_factory=frozenset)  # folded, from :func:`blanket_categories`

    @classmethod
    def build(
        cls,
        names: Iterable[str],
        brands: Iterable[str] = (),
        ignore: Iterable[str] = (),
        recent: Sequence[Sequence[str]] = (),
    ) -> FeedVocabulary:
        return cls(
            tuple(n for n in names if n),
            tuple(b for b in brands if b),
            frozenset(fold(i) for i in ignore if fold(i)),
            blanket_categories(recent),
        )

    def clean(self, labels: Iterable[str], author: str | None = None) -> tuple[str, ...]:
        kept = [
            label for label in labels if fold(label) not in self.ignore and fold(label) not in self.blanket
        ]
        cleaned = clean_categories(kept, self.names, author, self.brands)
        return tuple(c for c in cleaned if fold(c) not in self.ignore and fold(c) not in self.blanket)


def is_junk_label(label: str, rejected: Iterable[str] = ()) -> bool:
    """Whether a displayed topic chip is junk: the cleaning rules reject the label itself, or it is (folded)
    one of the ``rejected`` raw categories (those the cleaning dropped, and a hand list)."""
    if clean_category(label) is None:
        return True
    key = fold(label)
    return any(key == fold(r) for r in rejected)
