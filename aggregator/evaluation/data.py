"""Reading the labelled evaluation sets (JSON Lines, optionally gzipped) described in ../shared/data/README.md."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import AggregatorError
from ..ingest.outlets import outlet_of
from ..stories.doc import ArticleDoc, article_doc


class EvalDataError(AggregatorError, ValueError):
    """An evaluation file cannot be read."""


GOLD_FIELDS = ("label", "storyline", "copy_of")


@dataclass(frozen=True)
class EvalArticle:
    doc: ArticleDoc
    label: str | None = None  # gold story id (stories sets)
    storyline: str | None = None  # gold ongoing story ("More on this story"), on the real days
    copy_of: str | None = None  # gold: the id of the article whose text this one republishes
    gold_fields: frozenset[str] = frozenset()  # which of label, storyline and copy_of the line carries
    tags: tuple[
        tuple[str, str], ...
    ] = ()  # gold (id, title) topic tags (related sets); never shown to the engine
    extra: dict[str, Any] = field(default_factory=dict)


def _open(path: Path) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as f:
            yield from f
    except OSError as e:
        raise EvalDataError(f"{path}: cannot read: {e}") from e


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(_open(path), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise EvalDataError(f"{path}:{number}: not valid JSON: {e}") from e
        if not isinstance(row, dict):
            raise EvalDataError(f"{path}:{number}: expected a JSON object")
        yield number, row


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def load_articles(path: Path) -> list[EvalArticle]:
    articles = []
    for number, row in read_jsonl(path):
        if "id" not in row or "title" not in row:
            raise EvalDataError(f"{path}:{number}: every article needs an id and a title")
        source = str(row.get("source") or "")
        section = str(row.get("section") or "")
        url = row.get("url") if isinstance(row.get("url"), str) else None
        published = parse_time(row.get("published"))
        # The same conversion as a stored article's. The file's text is plain (an extracted text, as far as
        # the engine is concerned); `source` is the feed's own title and the file names no site: the outlet
        # comes from that title and the entry's link, through the same function as a stored feed's.
        doc = article_doc(
            id=str(row["id"]),
            title=str(row.get("title") or ""),
            summary=str(row.get("summary") or ""),
            extracted_text=str(row.get("text") or ""),
            published=published,
            dated=bool(row.get("dated", published is not None)),
            outlet=outlet_of(source, None, [url]).key,
            feed_title=f"{source}: {section}" if section else source,
            url=url,
        )
        tags = tuple((str(t.get("id", "")), str(t.get("title", ""))) for t in row.get("tags") or [])
        label, storyline, copy_of = row.get("label"), row.get("storyline"), row.get("copy_of")
        articles.append(
            EvalArticle(
                doc=doc,
                label=None if label is None else str(label),
                tags=tags,
                storyline=None if storyline is None else str(storyline),
                copy_of=None if copy_of is None else str(copy_of),
                gold_fields=frozenset(k for k in GOLD_FIELDS if k in row),
            )
        )
    return articles


def stream_order(articles: list[EvalArticle]) -> list[EvalArticle]:
    """Arrival order for the evaluation: by published time, undated ones after the dated, in file order."""
    dated = sorted((a for a in articles if a.doc.published), key=lambda a: a.doc.published or datetime.min)
    return dated + [a for a in articles if a.doc.published is None]


def load_packages(path: Path) -> list[tuple[str, list[str]]]:
    packages = []
    for number, row in read_jsonl(path):
        if "anchor" not in row or not isinstance(row.get("related"), list):
            raise EvalDataError(f"{path}:{number}: expected {{'anchor': id, 'related': [ids]}}")
        packages.append((str(row["anchor"]), [str(r) for r in row["related"]]))
    return packages
