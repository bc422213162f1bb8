"""Dedupe + clustering cost per article as the store grows (one core): the figure must stay flat.

    .venv/bin/python benchmarks/bench_cluster.py [--articles 100000] [--checkpoints 10000,100000]

Volume is synthesised from the real evaluation sets in ../shared/data/eval/stories (read there, never
copied): the headlines of uci-headlines (three days of one aggregator's stream) and the full texts of
ecbplus-dev (spread over the same three days) are replayed again and again, each replay four days after
the last. In every replay the capitalised words (names, places) get a replay-specific suffix, so a replay
brings new events with new names in the same common vocabulary: stories from earlier replays stay in the
candidate index (they are within `max_gap_days`) and keep competing through the shared words, as last
month's stories do in a real store. The production :class:`StoryEngine` with the default configuration
runs over the stream; the script prints ms per article over the replay in which the store passes each
checkpoint (whole replays, so the same mix of headlines and texts is compared).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import time
from datetime import timedelta
from pathlib import Path

from aggregator.config import StoriesConfig
from aggregator.evaluation.data import load_articles, stream_order
from aggregator.stories.doc import ArticleDoc
from aggregator.stories.engine import StoryEngine, cluster_stream

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
    args = parser.parse_args()
    if not EVAL.is_dir():
        print(f"evaluation data not found at {EVAL}", file=sys.stderr)
        return 2
    checkpoints = sorted(int(c) for c in args.checkpoints.split(","))
    base = base_stream()
    engine = StoryEngine(StoriesConfig())
    engine.observe(base[0])  # loads the language model outside the timed runs
    print(f"base stream: {len(base)} articles (one replay); config: StoriesConfig() defaults")
    print("CPU time of this process (one core), so other load on the machine does not count")
    done = 0
    total = 0.0
    replays = 0
    while done < args.articles:
        # Whole replays are timed, so the figures compare the same mix of headlines and full texts.
        batch = replay(base, replays)  # the last replay is completed, past --articles
        started = time.process_time()
        for _ in cluster_stream(engine, batch):  # as `aggregator cluster` runs its batches
            pass
        spent = time.process_time() - started
        total += spent
        first, done = done + 1, done + len(batch)
        replays += 1
        if any(first <= c <= done for c in checkpoints):
            print(
                f"articles {first:>7,}-{done:>7,} (store passes {', '.join(f'{c:,}' for c in checkpoints if first <= c <= done)}): "
                f"{1000 * spent / len(batch):.3f} ms per article; stories in the index {len(engine.stories)}, "
                f"originals for copies {len(engine.copies)}, vocabulary {len(engine.df.counts)}"
            )
    print(f"overall: {1000 * total / done:.3f} ms per article over {done:,} articles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
