"""Quality gate: extraction accuracy on the real pages must not fall below the floors in quality/floors.json.

Runs the whole of both sets (181 + 71 pages, about 10 s) through our wrapper, worker process included.
Floors can only be raised on purpose: edit quality/floors.json with the new measured figures.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator.errors import ExtractError
from aggregator.evaluation.extraction import aeb_pages, score_aeb, score_snippets, snippet_pages
from aggregator.fulltext.worker import ExtractWorker

from .conftest import REPO_ROOT

FLOORS = json.loads((REPO_ROOT / "quality" / "floors.json").read_text(encoding="utf-8"))["extract"]


@pytest.mark.slow
def test_extraction_quality_is_above_the_floors(shared_data: Path) -> None:
    pages = shared_data / "pages"
    aeb = list(aeb_pages(pages / "article-extraction-benchmark"))
    snippets = list(snippet_pages(pages / "trafilatura-eval"))
    assert len(aeb) == 181 and len(snippets) == 71, "the page sets in ../shared/data changed"
    with ExtractWorker(timeout=20.0) as worker:

        def ours(html: bytes, url: str) -> str | None:
            try:
                return worker.extract(html, url).text
            except ExtractError:
                return None

        scores = score_aeb(aeb, ours)
        share = score_snippets(snippets, ours)
    measured = {
        "aeb_precision": scores.precision,
        "aeb_recall": scores.recall,
        "aeb_f1": scores.f1,
        "snippets_pass": share,
    }
    below = {k: (round(v, 4), FLOORS[k]) for k, v in measured.items() if v < FLOORS[k]}
    assert not below, f"extraction quality below its floors (measured, floor): {below}"
