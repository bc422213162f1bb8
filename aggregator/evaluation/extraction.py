"""Measuring extraction on the real pages in ../shared/data/pages (benchmark and quality gate).

Two sets, each scored as its authors define it:

* ``article-extraction-benchmark`` (scrapinghub): 181 pages with the true article body. Per page, the
  true and the extracted text are cut into word 4-gram shingles (``\\w+`` tokens); true positives,
  false positives and false negatives are shingle counts, normalised by their sum so that long pages
  do not weigh more. Precision is the mean over pages that predicted anything, recall the mean over
  pages that have a body, and F1 is computed from those two means (its ``evaluate.py``).
* ``trafilatura-eval`` (news subset): per page, snippets that must appear and snippets that must not;
  a page passes when all of the first and none of the second are in the extracted text.
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

_TOKEN = re.compile(r"\w+", re.UNICODE)
SHINGLE = 4

Extractor = Callable[[bytes, str], str | None]  # (html, url) -> text or None


@dataclass(frozen=True)
class Page:
    id: str
    url: str
    html: bytes


def _shingles(text: str, n: int = SHINGLE) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    grams = [tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1))]
    return Counter(g for g in grams if g)


def shingle_tp_fp_fn(true: str, pred: str) -> tuple[float, float, float]:
    """One page's (tp, fp, fn) over 4-gram shingles, normalised to sum to 1 (all 0 when both are empty)."""
    t, p = _shingles(true), _shingles(pred)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fp == 0 else tp / (tp + fp)


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return 0.0 if tp == fn == 0 else tp / (tp + fn)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    pages: int


def scores(pairs: list[tuple[float, float, float]]) -> Scores:
    precision = statistics.mean([_precision(*x) for x in pairs if x[0] + x[1] > 0] or [0.0])
    recall = statistics.mean([_recall(*x) for x in pairs if x[0] + x[2] > 0] or [0.0])
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision, recall, f1, len(pairs))


# article-extraction-benchmark -------------------------------------------------------------------------------


def aeb_pages(folder: Path, limit: int | None = None) -> Iterator[tuple[Page, str]]:
    """(page, true body) in id order; ``limit`` takes the first pages of that order (a fixed subset)."""
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    for n, key in enumerate(sorted(truth)):
        if limit is not None and n >= limit:
            return
        html = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes())
        yield Page(key, truth[key].get("url") or "", html), truth[key].get("articleBody") or ""


def score_aeb(pages: list[tuple[Page, str]], extractor: Extractor) -> Scores:
    return scores([shingle_tp_fp_fn(truth, extractor(p.html, p.url) or "") for p, truth in pages])


# trafilatura-eval -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnippetPage:
    page: Page
    must: tuple[str, ...]
    must_not: tuple[str, ...]


def snippet_pages(folder: Path, limit: int | None = None) -> Iterator[SnippetPage]:
    spec = json.loads((folder / "evaldata_news_subset.json").read_text(encoding="utf-8"))
    for n, url in enumerate(sorted(spec)):
        if limit is not None and n >= limit:
            return
        item = spec[url]
        html = (folder / "html" / item["file"]).read_bytes()
        yield SnippetPage(
            Page(item["file"], url, html), tuple(item.get("with") or ()), tuple(item.get("without") or ())
        )


def snippets_pass(text: str | None, page: SnippetPage) -> bool:
    text = text or ""
    return all(s in text for s in page.must) and not any(s in text for s in page.must_not)


def score_snippets(pages: list[SnippetPage], extractor: Extractor) -> float:
    """Share of pages whose must-contain snippets are all present and must-not snippets all absent."""
    if not pages:
        return 0.0
    return sum(snippets_pass(extractor(p.page.html, p.page.url), p) for p in pages) / len(pages)
