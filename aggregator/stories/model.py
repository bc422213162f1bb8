"""The learned "join this story?" model: gradient-boosted trees read from a JSON file in the package.

Trained by ``scripts/train_story_model.py`` (scikit-learn's HistGradientBoostingClassifier on the labelled
sets of ``../shared/data``) and shipped as ``story_model.json``, so running the product needs neither
scikit-learn nor any download. Evaluation is a plain walk down each tree: a few hundred comparisons per
candidate story.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

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
class JoinModel:
    features: tuple[str, ...]
    baseline: float
    trees: tuple[Tree, ...]
    threshold: float  # join when the probability reaches this
    about: str = ""

    def probability(self, values: Mapping[str, float]) -> float:
        x = [float(values[name]) for name in self.features]
        raw = self.baseline + sum(tree.predict(x) for tree in self.trees)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, raw))))

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
