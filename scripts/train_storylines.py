"""Retrain the "More on this story" storyline model from the hand-labelled real feed days, reproducibly.

    .venv/bin/python scripts/train_storylines.py [--data ../shared/data] [--target 0.85] [--write]

For every development day (never the judging days), the gold stories (``label``, copies left out) go through the
site's own links code (:mod:`aggregator.stories.linking`); each story's candidates from the related index give one
row of :data:`aggregator.stories.storylines.FEATURES`, labelled by whether the candidate has the story's
``storyline``. Gradient-boosted trees (scikit-learn, the ``train`` extra; fixed seed) are trained leaving one day
out; the display threshold for a held-out day is the lowest whose precision over the other days' out-of-fold
scores reaches ``--target`` (those scores come from models that saw the held-out day: the threshold, one number,
is all it can leak into; the trees never see it). It prints, per
held-out day, the displayed lists' precision, recall and mean length, with the gold stories and with the engine's
stories, then the model fitted on all days (threshold from all days' out-of-fold predictions); ``--write`` saves
it as ``aggregator/stories/storyline_model.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from aggregator.config import StoriesConfig  # noqa: E402
from aggregator.evaluation.data import EvalArticle, load_articles  # noqa: E402
from aggregator.evaluation.stories import (  # noqa: E402
    cluster_articles,
    related_scores,
    story_members,
    storylines,
)
from aggregator.stories.linking import StoryLinker, build_links  # noqa: E402
from aggregator.stories.storylines import FEATURES, MODEL_FILE, StorylineModel, Tree  # noqa: E402

DEV_DAYS = ("20200428", "20200430", "20200501", "20200503", "20200504", "20210917", "20210920")
TREES = 100
LEARNING_RATE = 0.08
DEPTH = 3
NEGATIVE_SHARE = 0.25


def placeholder(candidates: int) -> StorylineModel:
    return StorylineModel(0.0, 0.0, (), 1.1, candidates)


class Day:
    """One development day: its gold and engine stories and the candidate rows of each."""

    def __init__(
        self, name: str, articles: list[EvalArticle], settings: StoriesConfig, candidates: int
    ) -> None:
        self.name = name
        self.settings = settings
        self.window = timedelta(days=settings.related_window_days)
        originals = [a for a in articles if a.copy_of is None]
        gold = {a.doc.id: str(a.label) for a in originals}
        found = cluster_articles(articles, settings)
        engine_originals = [a for a in articles if a.doc.id not in found.copies]
        self.views = {
            "gold": self._view(originals, gold, candidates),
            "engine": self._view(engine_originals, {k: str(v) for k, v in found.stories.items()}, candidates),
        }

    def _view(
        self, articles: list[EvalArticle], story_of: dict[str, str], candidates: int
    ) -> dict[str, object]:
        links = build_links(story_members(articles, story_of))
        lines = storylines(articles, story_of)
        linker = StoryLinker(links, self.window, self.settings.related_count, placeholder(candidates))
        rows, labels, pairs = [], [], []
        for key in sorted(links):
            for other, features in linker.candidates(key):
                rows.append(features)
                labels.append(lines[key] == lines[other])
                pairs.append((key, other))
        return {
            "links": links,
            "lines": lines,
            "X": np.array(rows),
            "y": np.array(labels, dtype=float),
            "pairs": pairs,
        }

    def scores(self, view: str, model: StorylineModel) -> tuple[float, float, float]:
        v = self.views[view]
        linker = StoryLinker(v["links"], self.window, self.settings.related_count, model)  # type: ignore[arg-type]
        lists = {k: [r.key for r in linker.lists(k)] for k in v["links"]}  # type: ignore[attr-defined]
        return related_scores(lists, v["lines"])  # type: ignore[arg-type]


def fit_days(days: list[Day]) -> GradientBoostingClassifier:
    """Trees trained on ``days``: every same-storyline row and a fixed share of the others (seeded), which keeps
    training quick; the threshold is calibrated on scores of the same kind, so the share does not bias it."""
    X, y = stack(days, "X"), stack(days, "y")
    keep = (y == 1) | (np.random.default_rng(0).random(len(y)) < NEGATIVE_SHARE)
    model = GradientBoostingClassifier(
        n_estimators=TREES, learning_rate=LEARNING_RATE, max_depth=DEPTH, subsample=1.0, random_state=0
    )
    return model.fit(X[keep], y[keep])


def predict(model: GradientBoostingClassifier, X: np.ndarray) -> np.ndarray:
    return np.asarray(model.predict_proba(X)[:, 1])


def calibrate(p: np.ndarray, y: np.ndarray, target: float) -> float:
    """The lowest threshold whose precision (over the rows at or above it) reaches ``target``."""
    best = 1.0
    order = np.argsort(-p)
    hits = np.cumsum(y[order])
    for i in range(len(order)):
        if hits[i] / (i + 1) >= target and (i + 1) >= 10:
            best = float(p[order[i]])
    return best


def model_of(fitted: GradientBoostingClassifier, threshold: float, n: int) -> StorylineModel:
    """The fitted trees as the runtime model (pure Python, no scikit-learn)."""
    prior = float(np.clip(fitted.init_.class_prior_[1], 1e-9, 1 - 1e-9))
    trees = []
    for (estimator,) in fitted.estimators_:
        t = estimator.tree_
        trees.append(
            Tree(
                tuple(
                    int(f) if left >= 0 else -1 for f, left in zip(t.feature, t.children_left, strict=True)
                ),
                tuple(round(float(x), 6) for x in t.threshold),
                tuple(int(x) for x in t.children_left),
                tuple(int(x) for x in t.children_right),
                tuple(round(float(v), 6) for v in t.value[:, 0, 0]),
            )
        )
    init = round(float(np.log(prior / (1 - prior))), 6)
    return StorylineModel(init, LEARNING_RATE, tuple(trees), round(threshold, 6), n)


def stack(days: list[Day], what: str) -> np.ndarray:
    parts = [d.views["gold"][what] for d in days]
    return np.vstack(parts) if what == "X" else np.concatenate(parts)  # type: ignore[arg-type]


def check(fitted: GradientBoostingClassifier, model: StorylineModel, X: np.ndarray) -> None:
    """The runtime model gives scikit-learn's probabilities (up to the rounding of the stored numbers)."""
    expected = predict(fitted, X[:200])
    got = np.array([model.probability(list(x)) for x in X[:200]])
    assert np.abs(expected - got).max() < 1e-3, "runtime trees disagree with scikit-learn"


def out_of_fold(days: list[Day]) -> dict[str, tuple[GradientBoostingClassifier, np.ndarray]]:
    """Per day: the model trained on the other days, and its scores of that day's rows."""
    folds = {}
    for held in days:
        fitted = fit_days([d for d in days if d is not held])
        folds[held.name] = (fitted, predict(fitted, held.views["gold"]["X"]))  # type: ignore[arg-type]
        print(f"  fitted without {held.name}", flush=True)
    return folds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--target", type=float, default=0.85, help="precision the threshold is set for")
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--write", action="store_true", help=f"save the all-days model as {MODEL_FILE}")
    args = parser.parse_args()
    settings = StoriesConfig()
    days = []
    for name in DEV_DAYS:
        path = args.data / "eval" / "real" / f"real-{name}.jsonl"
        if not path.is_file():
            raise SystemExit(f"{path}: not found (the real feed days are in ../shared/data/eval/real)")
        days.append(Day(name, load_articles(path), settings, args.candidates))
        g = days[-1].views["gold"]
        print(f"{name}: {len(g['y'])} candidate rows, {int(g['y'].sum())} of the same storyline", flush=True)  # type: ignore[arg-type,attr-defined]

    print(
        f"\nleave one day out (threshold for precision {args.target} on the other days' out-of-fold scores)"
    )
    folds = out_of_fold(days)
    totals: dict[str, list[tuple[float, float, float]]] = {"gold": [], "engine": []}
    for held in days:
        rest = [d for d in days if d is not held]
        p = np.concatenate([folds[d.name][1] for d in rest])
        threshold = calibrate(p, stack(rest, "y"), args.target)
        fitted = folds[held.name][0]
        model = model_of(fitted, threshold, args.candidates)
        check(fitted, model, held.views["gold"]["X"])  # type: ignore[arg-type]
        line = f"  {held.name} threshold {threshold:.3f}"
        for view in ("gold", "engine"):
            scores = held.scores(view, model)
            totals[view].append(scores)
            line += f"  {view}: P {scores[0]:.3f} R {scores[1]:.3f} shown {scores[2]:.2f}"
        print(line, flush=True)
    for view, rows in totals.items():
        mean = np.array(rows).mean(axis=0)
        print(f"  mean {view:6}: P {mean[0]:.3f} R {mean[1]:.3f} shown {mean[2]:.2f}")

    threshold = calibrate(np.concatenate([folds[d.name][1] for d in days]), stack(days, "y"), args.target)
    fitted = fit_days(days)
    model = model_of(fitted, threshold, args.candidates)
    print(f"\nall days: threshold {threshold:.3f}; feature importances:")
    for name, c in sorted(zip(FEATURES, fitted.feature_importances_, strict=True), key=lambda x: -x[1]):
        print(f"  {name:12} {c:.3f}")
    if args.write:
        target = REPO / "aggregator" / "stories" / MODEL_FILE
        target.write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
