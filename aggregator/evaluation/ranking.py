"""Ranking metrics for related-story lists and topic lists (binary relevance)."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass


def recall_at(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    return len(set(ranked[:k]) & set(gold)) / len(gold) if gold else 0.0


def precision_at(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    return len(set(ranked[:k]) & set(gold)) / k


def ndcg_at(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    wanted = set(gold)
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(ranked[:k]) if item in wanted)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(wanted))))
    return dcg / ideal if ideal else 0.0


def reciprocal_rank(ranked: Sequence[str], gold: Collection[str]) -> float:
    wanted = set(gold)
    for i, item in enumerate(ranked):
        if item in wanted:
            return 1.0 / (i + 1)
    return 0.0


@dataclass
class RankingScores:
    """Mean recall@k, nDCG@k, MRR and precision@k over queries."""

    k: int = 10
    queries: int = 0
    recall: float = 0.0
    ndcg: float = 0.0
    mrr: float = 0.0
    precision: float = 0.0

    def add(self, ranked: Sequence[str], gold: Collection[str]) -> None:
        self.queries += 1
        self.recall += recall_at(ranked, gold, self.k)
        self.ndcg += ndcg_at(ranked, gold, self.k)
        self.mrr += reciprocal_rank(ranked, gold)
        self.precision += precision_at(ranked, gold, self.k)

    def as_dict(self) -> dict[str, float | int]:
        n = self.queries or 1
        return {
            f"recall_at_{self.k}": round(self.recall / n, 4),
            f"ndcg_at_{self.k}": round(self.ndcg / n, 4),
            "mrr": round(self.mrr / n, 4),
            f"precision_at_{self.k}": round(self.precision / n, 4),
            "queries": self.queries,
        }
