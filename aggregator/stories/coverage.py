"""A story's coverage, counted once: its original articles, their copies, its outlets and its lead. Pure.

Every place that shows or counts a story's coverage asks :func:`story_coverage`: the story page and the front
page's ranking (:mod:`aggregator.publish.views`), the newsletter (:mod:`aggregator.publish.newsletter`) and
``Story.source_count`` (:mod:`aggregator.stories.cluster`), so a story never shows two outlets on the site
and one source in the email.

    members (id, outlet key, published, duplicate_of_id)
      -> copies: a member whose original is also a member (the same wire piece on three sites is one piece
         of coverage, shown as "also published by"); a copy of an article outside the story is the story's
         own coverage and counts like an original
      -> originals, oldest first (published, id); outlets: the originals' outlet keys in order of first
         coverage (two feeds of one brand are one outlet, see aggregator.ingest.outlets); lead: the first
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, Protocol, TypeVar


class Member(Protocol):
    """What coverage needs of an article of the story."""

    @property
    def id(self) -> int: ...

    @property
    def outlet_key(self) -> str: ...

    @property
    def published(self) -> datetime: ...

    @property
    def duplicate_of_id(self) -> int | None: ...


M = TypeVar("M", bound=Member)


@dataclass(frozen=True)
class StoryCoverage(Generic[M]):
    members: tuple[M, ...]  # every article, copies included, oldest first
    originals: tuple[M, ...]  # the story's own coverage, oldest first
    copies: dict[int, tuple[M, ...]] = field(default_factory=dict)  # an original's id -> its copies here
    outlets: tuple[str, ...] = ()  # outlet keys of the originals, in order of first coverage
    copy_ids: frozenset[int] = frozenset()  # members that are copies of another member

    @property
    def lead(self) -> M | None:
        """The first original: who reported it first."""
        return self.originals[0] if self.originals else None

    @property
    def outlet_count(self) -> int:
        return len(self.outlets)

    def is_copy(self, member: M) -> bool:
        """Whether ``member`` is a copy of another article of the story (not coverage of its own)."""
        return member.id in self.copy_ids


def story_coverage(members: Iterable[M]) -> StoryCoverage[M]:
    """The coverage of a story with these member articles (see the module docstring)."""
    ordered = tuple(sorted(members, key=lambda m: (m.published, m.id)))
    ids = {m.id for m in ordered}
    originals: list[M] = []
    copies: dict[int, list[M]] = {}
    for member in ordered:
        if member.duplicate_of_id is not None and member.duplicate_of_id in ids:
            copies.setdefault(member.duplicate_of_id, []).append(member)
        else:
            originals.append(member)
    outlets = tuple(dict.fromkeys(m.outlet_key for m in originals))
    return StoryCoverage(
        members=ordered,
        originals=tuple(originals),
        copies={k: tuple(v) for k, v in copies.items()},
        outlets=outlets,
        copy_ids=frozenset(m.id for group in copies.values() for m in group),
    )
