"""The demo corpus on disk: its manifest (feeds, expected stories) and its feed bytes with dates moved to now.

Every date in the corpus lies in the four days before the manifest's ``base_date``. The demo serves the
feeds with each date moved by ``now - base_date`` (:func:`shifted_body`), so the stories always look fresh.

The feeds are hand-written; when you edit one, keep the manifest in step: tests/test_demo_corpus.py
checks that every item is expected exactly once, that same-event reports use different words, that
syndicated copies repeat the original verbatim, and that every date stays within the four days.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

from ..errors import AggregatorError

CORPUS_DIR = Path(__file__).resolve().parent / "feeds"
MANIFEST_NAME = "manifest.json"


class DemoCorpusError(AggregatorError, ValueError):
    """The demo corpus shipped with the package is missing or inconsistent (a packaging or editing mistake)."""


@dataclass(frozen=True)
class DemoFeed:
    file: str  # name inside CORPUS_DIR
    title: str  # the outlet, as it names itself
    content_type: str  # the Content-Type header to serve it with
    broken: bool  # served where a feed is expected, but not a feed: polling it must fail

    @property
    def path(self) -> Path:
        return CORPUS_DIR / self.file


@dataclass(frozen=True)
class ExpectedStory:
    name: str
    about: str  # one line for people reading a test failure
    guids: tuple[str, ...]  # entry ids (feed GUIDs) of every report of this event, syndicated copies included


@dataclass(frozen=True)
class Syndication:
    original: str  # GUID of the wire service's item
    copies: tuple[str, ...]  # GUIDs of verbatim republications (own links and GUIDs), to collapse into it


@dataclass(frozen=True)
class FollowUp:
    story: str  # ExpectedStory.name of the first event
    follow_up: str  # a later, different event on the same subject: listed under "More on this story"


@dataclass(frozen=True)
class Manifest:
    base_date: datetime  # aware UTC; the corpus's "now"
    feeds: tuple[DemoFeed, ...]
    stories: tuple[ExpectedStory, ...]
    syndicated: tuple[Syndication, ...]
    follow_ups: tuple[FollowUp, ...]
    singletons: tuple[str, ...]  # GUIDs of single-outlet reports on unrelated subjects: one story each
    same_topic_labels: tuple[tuple[str, ...], ...]  # category labels that should normalise to one topic

    def story(self, name: str) -> ExpectedStory:
        for story in self.stories:
            if story.name == name:
                return story
        raise KeyError(name)

    def offset(self, now: datetime) -> timedelta:
        """How far to move every corpus date so that ``base_date`` becomes ``now``."""
        return now - self.base_date


def load_manifest(directory: Path = CORPUS_DIR) -> Manifest:
    """Read and check ``manifest.json``; raises :class:`DemoCorpusError` naming what is wrong."""
    path = directory / MANIFEST_NAME
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DemoCorpusError(f"{path}: cannot read the demo manifest: {e}") from e
    try:
        return _manifest(raw)
    except (KeyError, TypeError, ValueError) as e:
        raise DemoCorpusError(f"{path}: malformed demo manifest: {e!r}") from e


def _manifest(raw: dict[str, Any]) -> Manifest:
    base = datetime.fromisoformat(raw["base_date"])
    if base.tzinfo is None:
        raise ValueError("base_date needs a time zone")
    broken = set(raw["broken"])
    feeds = tuple(
        DemoFeed(str(f["file"]), str(f["title"]), str(f["content_type"]), f["file"] in broken)
        for f in raw["feeds"]
    )
    if unknown := broken - {f.file for f in feeds}:
        raise ValueError(f"broken files not listed in feeds: {sorted(unknown)}")
    expected = raw["expected"]
    stories = tuple(
        ExpectedStory(str(s["name"]), str(s.get("about", "")), tuple(s["guids"])) for s in expected["stories"]
    )
    names = {s.name for s in stories}
    follow_ups = tuple(FollowUp(str(f["story"]), str(f["follow_up"])) for f in expected["follow_ups"])
    if unknown := {n for f in follow_ups for n in (f.story, f.follow_up)} - names:
        raise ValueError(f"follow_ups name unknown stories: {sorted(unknown)}")
    return Manifest(
        base_date=base.astimezone(UTC),
        feeds=feeds,
        stories=stories,
        syndicated=tuple(Syndication(str(s["original"]), tuple(s["copies"])) for s in expected["syndicated"]),
        follow_ups=follow_ups,
        singletons=tuple(expected.get("singletons", ())),
        same_topic_labels=tuple(tuple(labels) for labels in expected.get("same_topic_labels", ())),
    )


# The two date formats the corpus uses: RFC 822 in RSS, RFC 3339 in Atom and JSON Feed. Nothing else in
# the text matches them (prose says "14 January"; ids and links use 2026-11-23 or 2026/11/23 without a time).
_RFC822 = re.compile(
    rb"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
    rb"\d{2}:\d{2}:\d{2} (?:[+-]\d{4}|GMT|UT|Z)"
)
_RFC3339 = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})")


def shift_dates(body: bytes, offset: timedelta) -> bytes:
    """Move every RFC 822 and RFC 3339 date in a feed body by ``offset``, keeping each date's format and zone."""

    def rfc822(match: re.Match[bytes]) -> bytes:
        text = match.group().decode("ascii")
        moved = parsedate_to_datetime(text) + offset
        return format_datetime(moved, usegmt=text.endswith("GMT")).encode("ascii")

    def rfc3339(match: re.Match[bytes]) -> bytes:
        text = match.group().decode("ascii")
        moved = (datetime.fromisoformat(text) + offset).isoformat()
        if text.endswith("Z"):
            moved = moved.removesuffix("+00:00") + "Z"
        return moved.encode("ascii")

    return _RFC3339.sub(rfc3339, _RFC822.sub(rfc822, body))


def shifted_body(feed: DemoFeed, manifest: Manifest, now: datetime) -> bytes:
    """The feed's bytes as the demo serves them: dates moved so that the corpus ends at ``now``."""
    try:
        body = feed.path.read_bytes()
    except OSError as e:
        raise DemoCorpusError(f"{feed.path}: cannot read demo feed: {e}") from e
    return body if feed.broken else shift_dates(body, manifest.offset(now))
