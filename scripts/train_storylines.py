"""Retrain the "More on this story" storyline model from the hand-labelled real feed days, reproducibly.

    .venv/bin/python scripts/train_storylines.py [--data ../shared/data] [--target 0.85] [--write]

For every development day (never the judging days), the gold stories (``label``, copies left out) go through the
site's own links code (:mod:`aggregator.stories.linking`); each story's candidates from the related index give one
row of :data:`aggregator.stories.storylines.FEATURES`, labelled by whether the candidate has the story's
``storyline``. The site's lists also reach back to earlier days, which one labelled day cannot show: so each two
consecutive development days (within the related window) are also linked together as one window, the earlier
day's copy of an item both days carry standing for it (with the later day's labels, as the site keeps the item it
fetched first), and the displayed lists across the two days are reported, labelled by their storylines. A
``single-NNN`` storyline is a number local to its day, and the days were labelled one at a time (an item both
days carry often has another storyline slug on each), so those labels are noisy: they are a report, and rows to
train on only with ``--cross-day-rows``.

Gradient-boosted trees (scikit-learn, the ``train`` extra; fixed seed) are trained leaving one day out (and every
pair of days holding it); the display threshold for a held-out day is the lowest whose precision over the other
rows' out-of-fold scores reaches ``--target`` (those scores come from models that saw the held-out day: the
threshold, one number, is all it can leak into; the trees never see it). It prints, per held-out day, the
displayed lists' precision, recall and mean length, with the gold stories and with the engine's stories, and per
pair of days the same figures over the cross-day pairs only (the model trained without either day), then the
model fitted on all rows (threshold from all out-of-fold predictions); ``--write`` saves it as
``aggregator/stories/storyline_model.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from itertools import pairwise
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
        self.originals = originals
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
        rows, labels, pairs, apart = [], [], [], []
        for key in sorted(links):
            for other, features in linker.candidates(key):
                rows.append(features)
                labels.append(lines[key] == lines[other])
                pairs.append((key, other))
                apart.append(linker.apart(key, other))
        return {
            "links": links,
            "lines": lines,
            "X": np.array(rows),
            "y": np.array(labels, dtype=float),
            "pairs": pairs,
            "apart": np.array(apart, dtype=bool),
        }

    def scores(self, view: str, model: StorylineModel) -> tuple[float, float, float]:
        v = self.views[view]
        linker = StoryLinker(v["links"], self.window, self.settings.related_count, model)  # type: ignore[arg-type]
        lists = {k: [r.key for r in linker.lists(k)] for k in v["links"]}  # type: ignore[attr-defined]
        return related_scores(lists, v["lines"])  # type: ignore[arg-type]


def _day_storyline(day: str, storyline: str | None, label: str | None) -> str:
    """A storyline as comparable across days: ``single-NNN`` numbers are local to their day's file."""
    line = str(storyline or label)
    return f"{day}/{line}" if line.startswith("single-") else line


class Span:
    """Two consecutive development days linked as one window: the rows of its cross-day pairs (gold stories)."""

    def __init__(self, first: Day, second: Day, candidates: int) -> None:
        self.days = (first.name, second.name)
        self.name = f"{first.name}+{second.name}"
        self.settings = first.settings
        self.window = first.window
        later = {a.doc.url: a for a in second.originals if a.doc.url}
        articles: list[EvalArticle] = []
        story_of: dict[str, str] = {}
        kept: set[str] = set()
        for a in first.originals:
            twin = later.get(a.doc.url) if a.doc.url else None
            owner, labelled = (second.name, twin) if twin is not None else (first.name, a)
            if twin is not None:
                kept.add(twin.doc.id)
            articles.append(replace(a, storyline=_day_storyline(owner, labelled.storyline, labelled.label)))
            story_of[a.doc.id] = f"{owner}/{labelled.label}"
        for b in second.originals:
            if b.doc.id not in kept:
                articles.append(replace(b, storyline=_day_storyline(second.name, b.storyline, b.label)))
                story_of[b.doc.id] = f"{second.name}/{b.label}"
        self.links = build_links(story_members(articles, story_of))
        self.lines = storylines(articles, story_of)
        linker = StoryLinker(self.links, self.window, self.settings.related_count, placeholder(candidates))
        rows, labels, apart = [], [], []
        for key in sorted(self.links):
            for other, features in linker.candidates(key):
                if _day_of(key) != _day_of(other):
                    rows.append(features)
                    labels.append(self.lines[key] == self.lines[other])
                    apart.append(linker.apart(key, other))
        self.X = np.array(rows).reshape(-1, len(FEATURES))
        self.y = np.array(labels, dtype=float)
        self.apart = np.array(apart, dtype=bool)

    def scores(self, model: StorylineModel) -> tuple[float, float, float]:
        """Precision, recall and mean length of the displayed lists over the cross-day pairs only."""
        linker = StoryLinker(self.links, self.window, self.settings.related_count, model)
        lists = {k: [r.key for r in linker.lists(k) if _day_of(str(r.key)) != _day_of(k)] for k in self.links}
        shown = [(k, r) for k, rs in lists.items() for r in rs]
        right = sum(self.lines[k] == self.lines[r] for k, r in shown)
        found = {frozenset(p) for p in shown if self.lines[p[0]] == self.lines[p[1]]}
        pairs = {
            frozenset((k, o))
            for k in self.links
            for o in self.links
            if _day_of(k) < _day_of(o) and self.lines[k] == self.lines[o]
        }
        return (
            right / len(shown) if shown else 1.0,
            len(found) / len(pairs) if pairs else 1.0,
            len(shown) / len(self.links) if self.links else 0.0,
        )


CROSS_DAY_ROWS = False  # --cross-day-rows


def _day_of(key: str) -> str:
    return key.split("/", 1)[0]


def spans_of(days: Sequence[Day], candidates: int) -> list[Span]:
    """The pairs of consecutive days whose polls fall in one related window (an item's date is capped at its
    day's poll time)."""
    found = []
    for first, second in pairwise(days):
        a, b = (max(a.doc.published for a in d.originals if a.doc.published) for d in (first, second))
        if b - a <= first.window:
            found.append(Span(first, second, candidates))
    return found


def fit_days(days: Sequence[Day], spans: Sequence[Span]) -> GradientBoostingClassifier:
    """Trees trained on ``days`` and ``spans``: every same-storyline row and a fixed share of the others (seeded),
    which keeps training quick; the threshold is calibrated on scores of the same kind, so the share does not
    bias it."""
    spans = spans if CROSS_DAY_ROWS else []
    X = np.vstack([stack(days, "X"), *(s.X for s in spans)])
    y = np.concatenate([stack(days, "y"), *(s.y for s in spans)])
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


def model_of(
    fitted: GradientBoostingClassifier, threshold: float, n: int, far: float | None = None
) -> StorylineModel:
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
    return StorylineModel(
        init, LEARNING_RATE, tuple(trees), round(threshold, 6), n, None if far is None else round(far, 6)
    )


def stack(days: Sequence[Day], what: str) -> np.ndarray:
    parts = [d.views["gold"][what] for d in days]
    return np.vstack(parts) if what == "X" else np.concatenate(parts)  # type: ignore[arg-type]


def check(fitted: GradientBoostingClassifier, model: StorylineModel, X: np.ndarray) -> None:
    """The runtime model gives scikit-learn's probabilities (up to the rounding of the stored numbers)."""
    expected = predict(fitted, X[:200])
    got = np.array([model.probability(list(x)) for x in X[:200]])
    assert np.abs(expected - got).max() < 1e-3, "runtime trees disagree with scikit-learn"


def without(days: Sequence[Day], spans: Sequence[Span], held: set[str]) -> tuple[list[Day], list[Span]]:
    """The days and spans that hold none of the ``held`` days."""
    return [d for d in days if d.name not in held], [s for s in spans if not held & set(s.days)]


def out_of_fold(
    days: Sequence[Day], spans: Sequence[Span]
) -> dict[str, tuple[GradientBoostingClassifier, np.ndarray]]:
    """Per day: the model trained without it (nor the spans holding it), and its scores of that day's rows; per
    span: the model trained without either of its days, and its scores of the span's rows."""
    folds = {}
    for held in days:
        fitted = fit_days(*without(days, spans, {held.name}))
        folds[held.name] = (fitted, predict(fitted, held.views["gold"]["X"]))  # type: ignore[arg-type]
        print(f"  fitted without {held.name}", flush=True)
    for span in spans:
        fitted = fit_days(*without(days, spans, set(span.days)))
        folds[span.name] = (fitted, predict(fitted, span.X))
        print(f"  fitted without {' and '.join(span.days)}", flush=True)
    return folds


def pooled(
    folds: dict[str, tuple[GradientBoostingClassifier, np.ndarray]],
    days: Sequence[Day],
    spans: Sequence[Span],
) -> tuple[np.ndarray, np.ndarray]:
    """The out-of-fold scores and labels of the given days' (and, with ``--cross-day-rows``, spans') rows."""
    spans = spans if CROSS_DAY_ROWS else []
    p = np.concatenate([folds[d.name][1] for d in days] + [folds[s.name][1] for s in spans])
    y = np.concatenate([stack(days, "y"), *(s.y for s in spans)])
    return p, y


def far_bar(
    folds: dict[str, tuple[GradientBoostingClassifier, np.ndarray]],
    days: Sequence[Day],
    spans: Sequence[Span],
    threshold: float,
    target: float,
) -> float:
    """The bar for stories ``FAR_APART`` or more apart: the lowest reaching ``target`` over the out-of-fold scores of
    such pairs alone, within the days and across consecutive days (whose labels are the ones the site's pages are
    read with), and never below ``threshold``."""
    p = [folds[d.name][1][d.views["gold"]["apart"]] for d in days]  # type: ignore[index]
    y = [d.views["gold"]["y"][d.views["gold"]["apart"]] for d in days]  # type: ignore[index]
    p += [folds[s.name][1][s.apart] for s in spans]
    y += [s.y[s.apart] for s in spans]
    return max(threshold, calibrate(np.concatenate(p), np.concatenate(y), target))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--target", type=float, default=0.85, help="precision the threshold is set for")
    parser.add_argument("--candidates", type=int, default=30)
    parser.add_argument("--write", action="store_true", help=f"save the all-days model as {MODEL_FILE}")
    parser.add_argument(
        "--cross-day-rows",
        action="store_true",
        help="also train and calibrate on the pairs across consecutive days (their storyline labels were made "
        "one day at a time and often disagree across days: by default they are only reported)",
    )
    args = parser.parse_args()
    global CROSS_DAY_ROWS
    CROSS_DAY_ROWS = args.cross_day_rows
    settings = StoriesConfig()
    days = []
    for name in DEV_DAYS:
        path = args.data / "eval" / "real" / f"real-{name}.jsonl"
        if not path.is_file():
            raise SystemExit(f"{path}: not found (the real feed days are in ../shared/data/eval/real)")
        days.append(Day(name, load_articles(path), settings, args.candidates))
        g = days[-1].views["gold"]
        print(f"{name}: {len(g['y'])} candidate rows, {int(g['y'].sum())} of the same storyline", flush=True)  # type: ignore[arg-type,attr-defined]

    spans = spans_of(days, args.candidates)
    for span in spans:
        print(
            f"{span.name}: {len(span.y)} cross-day rows, {int(span.y.sum())} of the same storyline",
            flush=True,
        )

    print(
        f"\nleave one day out (threshold for precision {args.target} on the other rows' out-of-fold scores)"
    )
    folds = out_of_fold(days, spans)
    totals: dict[str, list[tuple[float, float, float]]] = {"gold": [], "engine": [], "cross-day": []}
    for held in days:
        others = without(days, spans, {held.name})
        threshold = calibrate(*pooled(folds, *others), args.target)
        far = far_bar(folds, *others, threshold, args.target)
        fitted = folds[held.name][0]
        model = model_of(fitted, threshold, args.candidates, far)
        check(fitted, model, held.views["gold"]["X"])  # type: ignore[arg-type]
        line = f"  {held.name} threshold {threshold:.3f} far {far:.3f}"
        for view in ("gold", "engine"):
            scores = held.scores(view, model)
            totals[view].append(scores)
            line += f"  {view}: P {scores[0]:.3f} R {scores[1]:.3f} shown {scores[2]:.2f}"
        print(line, flush=True)
    for span in spans:
        others = without(days, spans, set(span.days))
        threshold = calibrate(*pooled(folds, *others), args.target)
        far = far_bar(folds, *others, threshold, args.target)
        model = model_of(folds[span.name][0], threshold, args.candidates, far)
        scores = span.scores(model)
        totals["cross-day"].append(scores)
        print(
            f"  {span.name} threshold {threshold:.3f} far {far:.3f}  cross-day gold: P {scores[0]:.3f} R {scores[1]:.3f} "
            f"shown {scores[2]:.2f}",
            flush=True,
        )
    for view, rows in totals.items():
        mean = np.array(rows).mean(axis=0)
        print(f"  mean {view:9}: P {mean[0]:.3f} R {mean[1]:.3f} shown {mean[2]:.2f}")

    threshold = calibrate(*pooled(folds, days, spans), args.target)
    far = far_bar(folds, days, spans, threshold, args.target)
    fitted = fit_days(days, spans)
    model = model_of(fitted, threshold, args.candidates, far)
    print(
        f"\nall days: threshold {threshold:.3f}, {far:.3f} for stories a day or more apart; feature importances:"
    )
    for name, c in sorted(zip(FEATURES, fitted.feature_importances_, strict=True), key=lambda x: -x[1]):
        print(f"  {name:12} {c:.3f}")
    if args.write:
        target = REPO / "aggregator" / "stories" / MODEL_FILE
        target.write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {target}")


if __name__ == "__main__":
    main()
