"""Cost of "More on this story" and topic inference as the index grows.

Usage: python benchmarks/bench_related.py [ARTICLES.jsonl.gz] [--sizes 10000,25000,100000]

Builds a RelatedIndex and a TopicModel from the Guardian dev articles (../shared/data/eval/related);
sizes beyond the file are synthesised by repeating the articles under new ids with their dates shifted by
whole years (same text, so the vocabulary does not grow: a pessimistic case, every term's postings grow with
the index). Prints milliseconds per index insertion, per related query and per topic prediction.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import time
from datetime import timedelta
from pathlib import Path

from aggregator.evaluation.data import load_articles
from aggregator.stories.doc import ArticleDoc
from aggregator.stories.related import RelatedIndex, StoryProfile
from aggregator.stories.topics import TopicModel, article_profile, article_topics

DEFAULT = (
    Path(__file__).resolve().parent.parent.parent / "shared/data/eval/related/guardian-articles.jsonl.gz"
)


Item = tuple[ArticleDoc, StoryProfile, tuple[str, ...]]


def items_of(path: Path, size: int) -> list[Item]:
    articles = load_articles(path)
    base = [(a.doc, article_profile(a.doc), tuple(t for _, t in a.tags)) for a in articles]
    out = []
    for i in range(size):
        doc, profile, tags = base[i % len(base)]
        copy = i // len(base)
        if copy:
            shifted = profile.time + timedelta(days=365 * copy) if profile.time else None
            profile = dataclasses.replace(profile, key=f"{profile.key}#{copy}", time=shifted)
        out.append((doc, profile, tags))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("articles", nargs="?", type=Path, default=DEFAULT)
    parser.add_argument("--sizes", default="10000,25000,100000")
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    everything = items_of(args.articles, max(sizes))
    rng = random.Random(7)
    print(f"{'stored':>8} {'add ms':>8} {'related ms':>11} {'topics ms':>10}")
    for size in sizes:
        items = everything[:size]
        index = RelatedIndex()
        model = TopicModel()
        start = time.perf_counter()
        for _, profile, _ in items:
            index.add(profile)
        add_ms = (time.perf_counter() - start) * 1000 / size
        for _, profile, tags in items[::2]:
            model.learn(profile, tags)
        queries = rng.sample(items, min(args.queries, size))
        start = time.perf_counter()
        for _, profile, _ in queries:
            index.related(profile, 10)
        related_ms = (time.perf_counter() - start) * 1000 / len(queries)
        start = time.perf_counter()
        for doc, profile, _ in queries:
            article_topics(model, doc, profile, 5)
        topics_ms = (time.perf_counter() - start) * 1000 / len(queries)
        print(f"{size:>8} {add_ms:>8.3f} {related_ms:>11.2f} {topics_ms:>10.2f}", flush=True)


if __name__ == "__main__":
    main()
