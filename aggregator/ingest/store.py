"""Writing parsed entries: an idempotent upsert keyed on (feed, GUID), with SQLAlchemy Core bulk statements.

Portable select-then-write (SQLite and PostgreSQL alike); safe because one feed is written by one
transaction at a time. Per entry:

    new GUID            -> INSERT; if another feed already has the canonical URL, the row is marked
                           duplicate_of_id = that first article, duplicate_reason = "url"
    known GUID, edited  -> UPDATE (entry_hash differs): fields refreshed, clustered_at and
                           extract_status reset so the later stages look at it again; the stored
                           date (and ``dated``) only moves when the edited entry has a date
    known GUID, same    -> nothing
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from ..db.models import Article
from .parse import EntryData

CHUNK = 500  # bound parameters per IN (...) stay far below SQLite's limit

articles: Table = Article.__table__  # type: ignore[assignment]


@dataclass
class StoreResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0  # of the new ones, how many repeat another feed's article URL


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _fields(entry: EntryData) -> dict[str, Any]:
    return {
        "url": entry.url,
        "canonical_url": entry.canonical_url,
        "title": entry.title,
        "summary": entry.summary,
        "content": entry.content,
        "author": entry.author,
        "categories": list(entry.categories),
        "image_url": entry.image_url,
        "updated_at": entry.updated_at,
        "entry_hash": entry.entry_hash,
    }


def store_entries(
    session: Session, feed_id: int, entries: Sequence[EntryData], *, now: datetime
) -> StoreResult:
    result = StoreResult()
    if not entries:
        return result
    existing: dict[str, tuple[int, str | None]] = {}
    for part in _chunks([e.guid for e in entries]):
        found = session.execute(
            select(articles.c.guid, articles.c.id, articles.c.entry_hash).where(
                articles.c.feed_id == feed_id, articles.c.guid.in_(part)
            )
        )
        existing.update({guid: (id_, h) for guid, id_, h in found})

    new = [e for e in entries if e.guid not in existing]
    changed = [e for e in entries if e.guid in existing and existing[e.guid][1] != e.entry_hash]
    result.unchanged = len(entries) - len(new) - len(changed)

    if new:
        first_by_url = _first_articles(session, feed_id, {e.canonical_url for e in new if e.canonical_url})
        rows: list[dict[str, Any]] = []
        for e in new:
            original = first_by_url.get(e.canonical_url) if e.canonical_url else None
            result.duplicates += original is not None
            rows.append(
                {
                    "feed_id": feed_id,
                    "guid": e.guid,
                    **_fields(e),
                    "published_at": e.published_at,
                    "dated": e.dated,
                    "fetched_at": now,
                    "duplicate_of_id": original,
                    "duplicate_reason": "url" if original is not None else None,
                    "extract_status": None,
                    "extract_attempts": 0,
                    "clustered_at": None,
                    "language": None,
                    "fingerprint": None,
                }
            )
        session.execute(insert(articles), rows)
        result.new = len(rows)

    if changed:
        dated = [e for e in changed if e.dated]
        undated = [e for e in changed if not e.dated]  # keep the first-seen time, not this fetch's time
        for group, with_date in ((dated, True), (undated, False)):
            if not group:
                continue
            values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in _fields(group[0])}
            values |= {"fetched_at": bindparam("v_fetched_at"), "clustered_at": None, "extract_status": None}
            if with_date:  # an edit that drops the date keeps the stored date, and with it the flag
                values |= {"published_at": bindparam("v_published_at"), "dated": True}
            stmt = update(articles).where(articles.c.id == bindparam("row_id")).values(values)
            params = [
                {
                    "row_id": existing[e.guid][0],
                    **{f"v_{k}": v for k, v in _fields(e).items()},
                    "v_fetched_at": now,
                    **({"v_published_at": e.published_at} if with_date else {}),
                }
                for e in group
            ]
            session.connection().execute(stmt, params)
        result.updated = len(changed)
    return result


def _first_articles(session: Session, feed_id: int, urls: set[str | None]) -> dict[str | None, int]:
    """For each canonical URL, the first stored article of another feed that is not itself a duplicate.

    Only the canonical URL is in the WHERE clause: with the other conditions there, SQLite picks the
    duplicate_of_id index and scans every original article; the few matching rows are filtered here.
    """
    first: dict[str | None, int] = {}
    for part in _chunks(sorted(u for u in urls if u)):
        found = session.execute(
            select(
                articles.c.canonical_url, articles.c.id, articles.c.feed_id, articles.c.duplicate_of_id
            ).where(articles.c.canonical_url.in_(part))
        )
        for url, id_, other_feed, duplicate_of in sorted(found, key=lambda row: row[1]):
            if other_feed != feed_id and duplicate_of is None:
                first.setdefault(url, id_)
    return first
