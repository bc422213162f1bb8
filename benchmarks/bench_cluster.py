"""Dedupe + clustering cost per article as the store grows (one core): the figure must stay flat.

    .venv/bin/python benchmarks/bench_cluster.py [--articles 100000] [--checkpoints 10000,100000]

Volume is synthesised from the real evaluation sets in ../shared/data/eval/stories (read there, never
copied): the headlines of uci-headlines (three days of one aggregator's stream) and the full texts of
ecbplus-dev (spread over the same three days) are replayed again and again, each replay four days after
the last. In every replay the capitalised words (names, places) get a replay-specific suffix, so a replay
brings new events with new names in the same common vocabulary: stories from earlier replays stay in the
candidate index (they are within `max_gap_days`) and keep competing through the shared words, as last
month's stories do in a real store. The production :class:`StoryEngine` with the default configuration
runs over the stream; the script prints ms per article over the window before each checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

from aggregator.cluster import StoryEngine
from aggregator.config import StoriesConfig
from aggregator.docs import ArticleDoc
from aggregator.evaldata import load_articles, stream_order

EVAL = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "eval" / "stories"
_CAPITALISED = re.compile(r"\b([A-Z][a-z]+)\b")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def base_stream() -> list[ArticleDoc]:
    headlines = [a.doc for a in stream_order(load_articles(EVAL / "uci-headlines.jsonl"))]
    texts = [a.doc for a in load_articles(EVAL / "ecbplus-dev.jsonl")]
    start = headlines[0].published
    end = headlines[-1].published
    assert start is not None and end is not None
    step = (end - start) / max(1, len(texts))
    dated = [
        dataclasses.replace(d, published=start + step * i, source=f"ecb{i % 50}") for i, d in enumerate(texts)
    ]
    return sorted(headlines + dated, key=lambda d: (d.published, d.id))


def replay(docs: list[ArticleDoc], n: int) -> list[ArticleDoc]:
    code = _LETTERS[n % 26] + _LETTERS[(n // 26) % 26]

    def rename(text: str) -> str:
        return _CAPITALISED.sub(lambda m: m.group(1) + code, text) if n else text

    shift = timedelta(days=4 * n)
    return [
        dataclasses.replace(
            d,
            id=f"{d.id}-{n}",
            title=rename(d.title),
            summary=rename(d.summary),
            text=rename(d.text),
            published=d.published + shift if d.published else None,
        )
        for d in docs
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--checkpoints", default="10000,100000")
    parser.add_argument("--window", type=int, default=2000, help="articles timed before each checkpoint")
    args = parser.parse_args()
    if not EVAL.is_dir():
        print(f"evaluation data not found at {EVAL}", file=sys.stderr)
        return 2
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    base = base_stream()
    engine = StoryEngine(StoriesConfig())
    done = 0
    spent: list[float] = []
    replays = 0
    print(f"base stream: {len(base)} articles; config: StoriesConfig() defaults")
    while done < args.articles:
        for doc in replay(base, replays):
            if done >= args.articles:
                break
            started = time.perf_counter()
            engine.add(doc)
            spent.append(time.perf_counter() - started)
            done += 1
            if done in checkpoints:
                window = spent[-args.window :]
                ms = 1000 * sum(window) / len(window)
                print(
                    f"{done:>7} articles stored: {ms:.3f} ms per article (last {len(window)}); "
                    f"stories in the index {len(engine.stories)}, originals for dedupe {len(engine.duplicates)}, "
                    f"vocabulary {len(engine.df.counts)}"
                )
        replays += 1
    print(f"overall: {1000 * sum(spent) / len(spent):.3f} ms per article over {done} articles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
