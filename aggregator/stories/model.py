"""The learned "join this story?" model: gradient-boosted trees read from a JSON file in the package.

Trained by ``scripts/train_story_model.py`` (scikit-learn's HistGradientBoostingClassifier on the labelled
sets of ``../shared/data``) and shipped as ``story_model.json``, so running the product needs neither
scikit-learn nor any download. :meth:`JoinModel.probabilities` walks every tree for every candidate at
once with numpy (all trees' nodes in flat arrays, one step down per tree level); :meth:`Tree.predict` is
the plain walk, kept as the reference the vectorised one is tested against.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

import numpy as np

from ..errors import AggregatorError

MODEL_VERSION = 1


class ModelError(AggregatorError):
    """The story model file is missing or malformed."""


@dataclass(frozen=True)
class Tree:
    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    value: tuple[float, ...]  # leaves' contributions (internal nodes: unused)
    leaf: tuple[bool, ...]

    def predict(self, x: Sequence[float]) -> float:
        node = 0
        while not self.leaf[node]:
            node = self.left[node] if x[self.feature[node]] <= self.threshold[node] else self.right[node]
        return self.value[node]


@dataclass(frozen=True)
class _Flat:
    """All trees' nodes in flat arrays; a leaf points to itself, so walking past it stays there."""

    roots: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    value: np.ndarray
    depth: int

    @classmethod
    def of(cls, trees: Sequence[Tree]) -> _Flat:
        roots: list[int] = []
        feature: list[int] = []
        left: list[int] = []
        right: list[int] = []
        threshold: list[float] = []
        value: list[float] = []
        depth = 0
        for tree in trees:
            base = len(feature)
            roots.append(base)
            for i in range(len(tree.leaf)):
                leaf = tree.leaf[i]
                feature.append(0 if leaf else tree.feature[i])
                threshold.append(0.0 if leaf else tree.threshold[i])
                left.append(base + i if leaf else base + tree.left[i])
                right.append(base + i if leaf else base + tree.right[i])
                value.append(tree.value[i] if leaf else 0.0)
            depth = max(depth, _depth(tree))
        return cls(
            np.array(roots, dtype=np.int64),
            np.array(feature, dtype=np.int64),
            np.array(threshold),
            np.array(left, dtype=np.int64),
            np.array(right, dtype=np.int64),
            np.array(value),
            depth,
        )


def _depth(tree: Tree) -> int:
    deepest, stack = 0, [(0, 0)]
    while stack:
        node, d = stack.pop()
        if tree.leaf[node]:
            deepest = max(deepest, d)
        else:
            stack += [(tree.left[node], d + 1), (tree.right[node], d + 1)]
    return deepest


@dataclass(frozen=True)
class JoinModel:
    features: tuple[str, ...]
    baseline: float
    trees: tuple[Tree, ...]
    threshold: float  # join when the probability reaches this
    about: str = ""

    def probability(self, values: Mapping[str, float]) -> float:
        """One candidate, tree by tree (the reference for :meth:`probabilities`)."""
        x = [float(values[name]) for name in self.features]
        raw = self.baseline + sum(tree.predict(x) for tree in self.trees)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, raw))))

    def probabilities(self, rows: Sequence[Mapping[str, float]]) -> list[float]:
        """The probability for each of several candidates, all trees walked together."""
        if not rows:
            return []
        flat = self._flat
        x = np.array([[float(r[name]) for name in self.features] for r in rows])
        at = np.tile(flat.roots, (len(rows), 1))
        which = np.arange(len(rows))[:, None]
        for _ in range(flat.depth):
            left = x[which, flat.feature[at]] <= flat.threshold[at]
            at = np.where(left, flat.left[at], flat.right[at])
        raw = self.baseline + flat.value[at].sum(axis=1)
        return [float(p) for p in 1.0 / (1.0 + np.exp(-np.clip(raw, -50.0, 50.0)))]

    @cached_property
    def _flat(self) -> _Flat:
        return _Flat.of(self.trees)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": MODEL_VERSION,
            "about": self.about,
            "features": list(self.features),
            "baseline": self.baseline,
            "threshold": self.threshold,
            "trees": [
                {
                    "feature": list(t.feature),
                    "threshold": [round(v, 6) for v in t.threshold],
                    "left": list(t.left),
                    "right": list(t.right),
                    "value": [round(v, 6) for v in t.value],
                    "leaf": [int(v) for v in t.leaf],
                }
                for t in self.trees
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JoinModel:
        try:
            if data["version"] != MODEL_VERSION:
                raise ModelError(f"story model version {data['version']!r}, expected {MODEL_VERSION}")
            trees = tuple(
                Tree(
                    feature=tuple(int(v) for v in t["feature"]),
                    threshold=tuple(float(v) for v in t["threshold"]),
                    left=tuple(int(v) for v in t["left"]),
                    right=tuple(int(v) for v in t["right"]),
                    value=tuple(float(v) for v in t["value"]),
                    leaf=tuple(bool(v) for v in t["leaf"]),
                )
                for t in data["trees"]
            )
            return cls(
                features=tuple(str(f) for f in data["features"]),
                baseline=float(data["baseline"]),
                trees=trees,
                threshold=float(data["threshold"]),
                about=str(data.get("about", "")),
            )
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(f"story model file is malformed: {e}") from e


@lru_cache(maxsize=1)
def default_model() -> JoinModel:
    """The model shipped with the package."""
    try:
        raw = resources.files("aggregator.stories").joinpath("story_model.json").read_text(encoding="utf-8")
    except OSError as e:
        raise ModelError(f"the story model file is missing from the package: {e}") from e
    return JoinModel.from_json(json.loads(raw))
