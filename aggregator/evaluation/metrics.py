"""Clustering metrics: B-cubed and pairwise precision/recall/F1 of a predicted clustering against gold labels."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def bcubed(predicted: Mapping[str, Hashable], gold: Mapping[str, Hashable]) -> PRF:
    """B-cubed (Bagga & Baldwin 1998) over the items present in both mappings.

    Per item: precision is the share of its predicted cluster with its gold label, recall the share of
    its gold cluster inside its predicted cluster; both averaged over items.
    """
    items = [i for i in gold if i in predicted]
    if not items:
        return PRF(0.0, 0.0, 0.0)
    pred_size = Counter(predicted[i] for i in items)
    gold_size = Counter(gold[i] for i in items)
    both = Counter((predicted[i], gold[i]) for i in items)
    p = sum(both[(predicted[i], gold[i])] / pred_size[predicted[i]] for i in items) / len(items)
    r = sum(both[(predicted[i], gold[i])] / gold_size[gold[i]] for i in items) / len(items)
    return PRF(p, r, _f1(p, r))


def pairwise(predicted: Mapping[str, Hashable], gold: Mapping[str, Hashable]) -> PRF:
    """Precision/recall/F1 over item pairs put together (counted from cluster sizes, no pair loop)."""
    items = [i for i in gold if i in predicted]

    def pairs(counter: Counter[Hashable] | Counter[tuple[Hashable, Hashable]]) -> int:
        return sum(n * (n - 1) // 2 for n in counter.values())

    together_pred = pairs(Counter(predicted[i] for i in items))
    together_gold = pairs(Counter(gold[i] for i in items))
    together_both = pairs(Counter((predicted[i], gold[i]) for i in items))
    p = together_both / together_pred if together_pred else 1.0
    r = together_both / together_gold if together_gold else 1.0
    return PRF(p, r, _f1(p, r))
