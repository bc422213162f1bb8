"""What kind of item a feed entry is: news, or a live blog, round-up, explainer, podcast, promo, gallery, quiz.

title, summary, url in -> ItemKind out; pure (no database, network or clock).

Non-news items never lead a story, are never chosen as its headline and do not make it look busy. Precision
comes before recall: a news item wrongly marked non-news would never join a story, so every pattern below is
anchored (a title prefix, a title suffix, a whole title, a URL path segment) and English words are matched as
whole words only, so a title in another language is left as news unless it carries one of these markers.
The summary is never used on its own: channel boilerplate ("Subscribe to our channel!") sits under real news
videos too.
"""

from __future__ import annotations

import re
from enum import StrEnum

__all__ = ["NON_NEWS", "ItemKind", "is_news", "item_kind"]


class ItemKind(StrEnum):
    NEWS = "news"
    LIVE = "live"
    ROUNDUP = "roundup"
    EXPLAINER = "explainer"
    PODCAST = "podcast"
    PROMO = "promo"
    GALLERY = "gallery"
    QUIZ = "quiz"


NON_NEWS = frozenset(kind for kind in ItemKind if kind is not ItemKind.NEWS)

_I = re.IGNORECASE

# Live blogs: "Live: ...", "LIVE updates", "Coronavirus live updates: ...", "... - as it happened",
# "As the day unfolded: ...", "Live Coronavirus in the US Updates", "Stock Market Live Tracker".
_LIVE_TITLE = (
    re.compile(r"^\s*(?:live|live updates?|live blog)\s*[:|\-–—]", _I),
    re.compile(r"\blive\s+(?:updates?|blog|coverage|tracker|news)\b", _I),
    re.compile(r"\bupdates\s+live\b", _I),
    re.compile(r"^\s*live\b.{0,60}\bupdates\b", _I),
    re.compile(r"\bnews\s+live\s*:", _I),
    re.compile(r"\b(?:as|how) it happened\b", _I),
    re.compile(r"^\s*as the day unfolded\b", _I),
    re.compile(r"\blive\s*:\s*$", _I),
)
# One post of a live blog (CNN's ``/live-news/<blog>/h_<id>``) is a news item of its own.
_POST_ANCHOR = re.compile(r"/h_[0-9a-f]{8,}", _I)
_LIVE_URL = re.compile(
    r"[/-](?:live-updates?|live-blog|liveblog|live-news|news-live|as-it-happened)(?:[/.\-]|$)", _I
)

# Round-ups: daily briefings, newsletters, "what you need to know", "top stories", whole bulletins.
_ROUNDUP_TITLE = (
    re.compile(r"\b(?:morning|evening|daily|weekend|midday|night|breakfast|news)\s+briefing\s*:", _I),
    re.compile(r"^\s*(?:\w+\s+){0,3}briefing\s*:\s*what happened today\b", _I),
    re.compile(
        r"\byour\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend|morning|evening|daily)\s+briefing\b",
        _I,
    ),
    re.compile(r"^\s*(?:the\s+)?(?:morning|evening|daily)\s+briefing\b", _I),
    re.compile(
        r"\bwhat you need to know\s+(?:about\s+)?(?:\w+\s+)?(?:today|this week|this morning|tonight)\b", _I
    ),
    re.compile(r"\bwhat you need to know about today'?s developments\b", _I),
    re.compile(r"\beverything you need to know\s*$", _I),
    re.compile(r"\btop stories (?:from|of|for|on|this)\b", _I),
    re.compile(r"^\s*(?:top|today'?s|this week'?s)\s+(?:stories|headlines)\s*[:|\-–—]", _I),
    re.compile(r"\b(?:evening|morning) update\b", _I),
    re.compile(r"\b(?:news|headlines)\s+(?:round-?up|in brief|at a glance)\b", _I),
    re.compile(r"^\s*(?:news\s+)?round-?up\s*[:|\-–—]", _I),
    re.compile(r"\bnewsletter\s*[:|\-–—]", _I),
    re.compile(r"\bmust-watch videos of the week\b", _I),
    re.compile(r"\bfull episodes?\b", _I),
    re.compile(r"^\s*[\w .'-]{2,40}\s+express\s*:\s*\w+ \d{1,2},? \d{4}", _I),
    re.compile(r"^\s*tv patrol(?:\s+[\w -]{1,40})?\s*[-–—|:]\s*\w+ \d{1,2},? \d{4}\s*$", _I),
)
_ROUNDUP_URL = re.compile(
    r"/(?:briefing|newsletters?)/|[/-](?:morning-briefing|evening-briefing|newsletter)[/-]", _I
)

# Evergreen explainers and how-to guides, whole-title shapes only.
_EXPLAINER_TITLE = (
    re.compile(
        r"^\s*(?:[\w' -]{1,40}:\s*)?what (?:is|are) (?:the\s+|a\s+|an\s+)?(?!.*\b(?:new|now|latest|changes?)\b)[\w' -]{1,40}\?\s*$",
        _I,
    ),
    re.compile(r"^\s*(?:[\w' -]{1,40}:\s*)?what (?:is|are) (?:it|they) and\b", _I),
    re.compile(r"\bwhat is (?:a|an) [\w' -]{1,40} and how\b", _I),
    re.compile(r"^\s*(?:[\w' -]{1,40}:\s*)?how to\s(?!watch\b)", _I),
    re.compile(r"\bkey terms explained\b", _I),
    re.compile(r"^\s*(?:explainer|explained|q&a|faq)\s*[:|\-–—]", _I),
    re.compile(r"[:|\-–—]\s*(?:explainer|explained|q&a|faq)\s*$", _I),
)

_PODCAST_TITLE = (
    re.compile(r"^\s*podcast\s*[:|\-–—]", _I),
    re.compile(r"[|\-–—]\s*(?:[\w' ]{0,40}\s)?podcast\s*(?:[|\-–—]|$)", _I),
    re.compile(r"\bpodcast\s+episode\b", _I),
)
_PODCAST_URL = re.compile(r"/podcasts?/", _I)

# Channel promos: trailers, "subscribe", "watch live", livestream replays of a whole programme.
_PROMO_TITLE = (
    re.compile(r"\b(?:official|season \d+|series|limited series|teaser|first look)\s+trailer\b", _I),
    re.compile(r"(?:^|[|\-–—:]\s*)trailer\s*(?:[|\-–—]|$)", _I),
    re.compile(r"\btrailer\s*\|", _I),
    re.compile(r"^\s*subscribe\b", _I),
    re.compile(r"\bsubscribe (?:now|to our|to the)\b", _I),
    re.compile(r"^\s*watch live\s*[:|\-–—]", _I),
    re.compile(r"\blivestream\s*\|\s*\w+ \d{1,2},? \d{4}\b", _I),
)

# Galleries of a period ("Week in pictures"); a gallery pegged to one event ("In pictures: the siege") is news.
_GALLERY_TITLE = (
    re.compile(r"^\s*week in pictures\b", _I),
    re.compile(r"^\s*(?:the\s+)?best of the (?:world|week|day|year) in pictures\s*$", _I),
    re.compile(r"^\s*(?:photos|pictures) of the (?:day|week)\s*(?:[:|\-–—]|$)", _I),
)
_QUIZ_TITLE = (
    re.compile(r"^\s*(?:news\s+)?quiz\s*[:|\-–—]", _I),
    re.compile(r"\b(?:morning|daily|weekly|news|evening|afternoon)\s+quiz\b", _I),
    re.compile(r"^\s*quiz of the (?:week|day)\b", _I),
)

_ORDER: tuple[tuple[ItemKind, tuple[re.Pattern[str], ...], re.Pattern[str] | None], ...] = (
    (ItemKind.LIVE, _LIVE_TITLE, _LIVE_URL),
    (ItemKind.ROUNDUP, _ROUNDUP_TITLE, _ROUNDUP_URL),
    (ItemKind.PODCAST, _PODCAST_TITLE, _PODCAST_URL),
    (ItemKind.PROMO, _PROMO_TITLE, None),
    (ItemKind.QUIZ, _QUIZ_TITLE, None),
    (ItemKind.GALLERY, _GALLERY_TITLE, None),
    (ItemKind.EXPLAINER, _EXPLAINER_TITLE, None),
)


def item_kind(title: str, summary: str, url: str | None) -> ItemKind:
    """The kind of one entry from its title and URL; ``ItemKind.NEWS`` unless a marker says otherwise.

    ``summary`` is accepted for callers' convenience and reserved: boilerplate under real news videos makes it
    unreliable as evidence on its own.
    """
    del summary  # see the docstring
    text = " ".join((title or "").split())
    path = _path(url)
    for kind, patterns, url_pattern in _ORDER:
        if any(p.search(text) for p in patterns):
            return kind
        if url_pattern is not None and path and url_pattern.search(path) and not _POST_ANCHOR.search(path):
            return kind
    return ItemKind.NEWS


def is_news(kind: ItemKind | str | None) -> bool:
    """Unknown or missing kinds count as news (the default)."""
    return kind is None or kind == ItemKind.NEWS or kind not in NON_NEWS


def _path(url: str | None) -> str:
    if not url:
        return ""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    if slash < 0:
        return ""
    return rest[slash:].split("?", 1)[0].split("#", 1)[0]
