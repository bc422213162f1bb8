"""`aggregator eval stories`: replay a labelled set through dedupe and clustering, score against the labels.

The articles go through the production :class:`~aggregator.stories.engine.StoryEngine` with the given (default)
:class:`~aggregator.config.StoriesConfig`, one at a time in arrival order (by ``published``, undated ones
after the dated in file order), exactly as ``aggregator cluster`` feeds it from the database.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import StoriesConfig
from ..stories.engine import StoryEngine, cluster_stream
from ..stories.model import JoinModel
from .data import EvalArticle, EvalDataError, load_articles, stream_order
from .metrics import bcubed, pairwise


@dataclass(frozen=True)
class StoriesReport:
    articles: int
    bcubed_p: float
    bcubed_r: float
    bcubed_f1: float
    pairwise_p: float
    pairwise_r: float
    pairwise_f1: float
    clusters: int
    gold_clusters: int
    duplicates: int
    merges: int
    ms_per_article: float

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


def cluster_articles(
    articles: list[EvalArticle], settings: StoriesConfig, model: JoinModel | None = None
) -> tuple[dict[str, int], int, int, float]:
    """Predicted story per article id, copies found, merges made, and seconds spent in the engine.

    In batches of ``CLUSTER_BATCH`` in arrival order, each observed whole before its articles are added,
    as ``aggregator cluster`` does with its batches of pending articles."""
    engine = StoryEngine(settings, model=model)
    assigned: dict[str, int] = {}
    duplicates = merges = 0
    started = time.perf_counter()
    for doc, result in cluster_stream(engine, [a.doc for a in stream_order(articles)]):
        assigned[doc.id] = result.story_id
        duplicates += result.duplicate_of is not None
    elapsed = time.perf_counter() - started
    return assigned, duplicates, merges, elapsed


def evaluate_stories(path: Path, settings: StoriesConfig | None = None) -> StoriesReport:
    articles = load_articles(path)
    gold = {a.doc.id: a.label for a in articles if a.label is not None}
    if not gold:
        raise EvalDataError(f"{path}: no article carries a gold `label`; not a stories evaluation set")
    predicted, duplicates, merges, elapsed = cluster_articles(articles, settings or StoriesConfig())
    b = bcubed(predicted, gold)
    pw = pairwise(predicted, gold)
    return StoriesReport(
        articles=len(articles),
        bcubed_p=b.precision,
        bcubed_r=b.recall,
        bcubed_f1=b.f1,
        pairwise_p=pw.precision,
        pairwise_r=pw.recall,
        pairwise_f1=pw.f1,
        clusters=len(set(predicted.values())),
        gold_clusters=len(set(gold.values())),
        duplicates=duplicates,
        merges=merges,
        ms_per_article=1000 * elapsed / max(1, len(articles)),
    )
