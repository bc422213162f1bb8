"""Extraction accuracy and speed on the real pages in ../shared/data/pages.

    .venv/bin/python -m benchmarks.bench_extract [--limit N] [--pages DIR]

Prints, for our wrapper (aggregator.fulltext.worker: trafilatura in a worker process with a time limit) and for
trafilatura alone called directly in this process (as the benchmark's own run_trafilatura.py calls it):
precision, recall and F1 on article-extraction-benchmark as that benchmark defines them (word 4-gram
shingles, see aggregator.evaluation.extraction), ms per page, and the share of trafilatura-eval pages whose
must-contain snippets are all present and must-not-contain snippets all absent.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from aggregator.config import FulltextConfig
from aggregator.errors import ExtractError
from aggregator.evaluation.extraction import Extractor, aeb_pages, score_aeb, score_snippets, snippet_pages
from aggregator.fulltext.worker import ExtractWorker

PAGES = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "pages"


def direct(html: bytes, url: str) -> str | None:
    return trafilatura.extract(html, include_comments=False, deduplicate=False)


def timed(extractor: Extractor) -> tuple[Extractor, Callable[[], tuple[float, int]]]:
    spent = [0.0, 0]

    def run(html: bytes, url: str) -> str | None:
        start = time.perf_counter()
        try:
            return extractor(html, url)
        finally:
            spent[0] += time.perf_counter() - start
            spent[1] += 1

    return run, lambda: (spent[0], int(spent[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=Path, default=PAGES)
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each set (by id)")
    args = parser.parse_args()
    aeb = list(aeb_pages(args.pages / "article-extraction-benchmark", args.limit))
    snippets = list(snippet_pages(args.pages / "trafilatura-eval", args.limit))

    with ExtractWorker(FulltextConfig().timeout) as worker:
        worker.extract(b"<html><body><p>warm-up</p></body></html>", None)  # start-up is not a page's cost

        def ours(html: bytes, url: str) -> str | None:
            try:
                return worker.extract(html, url).text
            except ExtractError:
                return None

        print(f"article-extraction-benchmark: {len(aeb)} pages; trafilatura-eval: {len(snippets)} pages")
        print(
            f"{'extractor':<34} {'precision':>9} {'recall':>7} {'F1':>6} {'ms/page':>8} {'snippets ok':>12}"
        )
        for name, fn in (
            ("aggregator.fulltext.worker (worker)", ours),
            ("trafilatura.extract (direct)", direct),
        ):
            run, spent = timed(fn)
            s = score_aeb(aeb, run)
            seconds, count = spent()
            share = score_snippets(snippets, fn)
            ms = 1000 * seconds / max(count, 1)
            print(f"{name:<34} {s.precision:9.3f} {s.recall:7.3f} {s.f1:6.3f} {ms:8.1f} {share:12.3f}")
        print(f"worker restarts after a timeout: {worker.kills}")


if __name__ == "__main__":
    main()
