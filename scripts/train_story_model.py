"""Retrain the story engine's join model from the labelled sets in ../shared/data, reproducibly.

    .venv/bin/pip install -e '.[train]'
    .venv/bin/python scripts/train_story_model.py            # report, then write the model
    .venv/bin/python scripts/train_story_model.py --report   # leave-one-set-out report only

Training replays every labelled set through the production engine with the gold stories forced (each
article is placed in its gold story, so the candidates and features are exactly those the engine computes
online), and keeps one row per (article, candidate story) labelled "same event". The model is scikit-learn's
HistGradientBoostingClassifier, monotone where the direction is known (more similarity never lowers the
probability, a longer silence never raises it), exported as plain trees to
aggregator/stories/story_model.json.

Leave one set out: each real day and each curated set is held out in turn, the model trained on the others
(entries the held-out day shares with other days, by URL, dropped from training) and the held-out set
clustered online with it. The join threshold is the one with the best mean of B-cubed and pairwise F1
over those held-out runs; the shipped model is then trained on every set.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aggregator.config import StoriesConfig  # noqa: E402
from aggregator.evaluation.data import EvalArticle, load_articles, stream_order  # noqa: E402
from aggregator.evaluation.metrics import bcubed, pairwise  # noqa: E402
from aggregator.evaluation.stories import cluster_articles  # noqa: E402
from aggregator.stories.engine import StoryEngine  # noqa: E402
from aggregator.stories.features import FEATURES  # noqa: E402
from aggregator.stories.model import JoinModel, Tree  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "eval"
OUT = ROOT / "aggregator" / "stories" / "story_model.json"
BATCH = 500  # as `aggregator cluster` observes its batches
THRESHOLDS = (0.5, 0.6)
# +1: the probability never falls as the feature rises; -1: never rises; 0: learned freely.
MONOTONE = {
    "title_cos": 1,
    "body_cos": 1,
    "cross_cos": 1,
    "all_cos": 1,
    "title_best": 1,
    "gram_best": 1,
    "names_shared": 1,
    "names_shared_n": 1,
    "numbers_shared": 1,
    "names_missing": -1,
    "hours_since_last": -1,
    "best_other": -1,
}
PARAMS = dict(
    max_iter=150,
    learning_rate=0.08,
    max_leaf_nodes=15,
    min_samples_leaf=40,
    l2_regularization=1.0,
    early_stopping=False,
    random_state=0,
)


def _sets() -> list[tuple[str, str, list[EvalArticle]]]:
    found = []
    for path in sorted((DATA / "real").glob("real-*.jsonl")):
        found.append((path.stem, "real", load_articles(path)))
    for path in sorted((DATA / "stories").glob("*.jsonl")):
        found.append((path.stem, "curated", load_articles(path)))
    if not found:
        raise SystemExit(
            f"no labelled sets under {DATA}: this script needs ../shared/data beside the checkout"
        )
    return found


def _null_model() -> JoinModel:
    return JoinModel(features=(), baseline=0.0, trees=(), threshold=1.0)


Rows = tuple[list[list[float]], list[int], list[str]]  # features, same event or not, the article's URL


def rows_of(articles: list[EvalArticle]) -> Rows:
    """Features of every (article, candidate story) pair met while replaying the gold stories."""
    engine = StoryEngine(StoriesConfig(), model=_null_model())
    story_of_label: dict[str, int] = {}
    x: list[list[float]] = []
    y: list[int] = []
    urls: list[str] = []
    ordered = stream_order(articles)
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start : start + BATCH]
        for article in batch:
            engine.observe(article.doc)
        for article in batch:
            prepared = engine.prepare(article.doc)
            if prepared is None or article.label is None:
                continue
            rep, vectors = prepared
            gold = story_of_label.get(article.label)
            for story_id, features in engine.candidate_features(rep, vectors):
                x.append([features[name] for name in FEATURES])
                y.append(int(story_id == gold))
                urls.append(article.doc.url or article.doc.id)
            story_of_label[article.label] = engine.place(rep, vectors, gold)
    return x, y, urls


def fit(x: Sequence[Sequence[float]], y: Sequence[int], threshold: float, about: str = "") -> JoinModel:
    monotone = [MONOTONE.get(name, 0) for name in FEATURES]
    clf = HistGradientBoostingClassifier(monotonic_cst=monotone, **PARAMS)  # type: ignore[arg-type]
    clf.fit(np.asarray(x), np.asarray(y))
    trees = []
    for (predictor,) in clf._predictors:
        nodes = predictor.nodes
        trees.append(
            Tree(
                feature=tuple(int(v) for v in nodes["feature_idx"]),
                threshold=tuple(float(v) for v in nodes["num_threshold"]),
                left=tuple(int(v) for v in nodes["left"]),
                right=tuple(int(v) for v in nodes["right"]),
                value=tuple(float(v) for v in nodes["value"]),
                leaf=tuple(bool(v) for v in nodes["is_leaf"]),
            )
        )
    model = JoinModel(
        features=FEATURES,
        baseline=float(np.ravel(clf._baseline_prediction)[0]),
        trees=tuple(trees),
        threshold=threshold,
        about=about,
    )
    sample = np.asarray(x[:200])
    ours = [model.probability(dict(zip(FEATURES, row, strict=True))) for row in sample]
    assert np.allclose(ours, clf.predict_proba(sample)[:, 1], atol=1e-6), "exported trees disagree"
    return model


def score(articles: list[EvalArticle], model: JoinModel) -> tuple[float, float]:
    predicted = cluster_articles(articles, StoriesConfig(), model=model).stories
    gold = {a.doc.id: a.label for a in articles if a.label is not None}
    return bcubed(predicted, gold).f1, pairwise(predicted, gold).f1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--report", action="store_true", help="leave-one-set-out report only; write nothing")
    parser.add_argument(
        "--threshold",
        type=float,
        help="skip the leave-one-set-out runs: train on every set with this threshold",
    )
    args = parser.parse_args(argv)
    sets = _sets()
    rows = {name: rows_of(articles) for name, _, articles in sets}
    for name, (x, y, _) in rows.items():
        print(f"{name}: {len(x)} candidate rows, {sum(y)} same-event", flush=True)
    if args.threshold is not None:
        _write(sets, rows, args.threshold, "no leave-one-set-out report")
        return 0
    results: dict[str, dict[float, tuple[float, float]]] = {}
    for name, kind, articles in sets:
        held_urls = {a.doc.url for a in articles if a.doc.url}
        x: list[list[float]] = []
        y: list[int] = []
        for other, (ox, oy, ourls) in rows.items():
            if other == name:
                continue
            for row, label, url in zip(ox, oy, ourls, strict=True):
                if kind == "real" and url in held_urls:
                    continue  # an entry the held-out day repeats: it would be seen in training
                x.append(row)
                y.append(label)
        model = fit(x, y, 0.5)
        results[name] = {}
        for threshold in THRESHOLDS:
            model = JoinModel(model.features, model.baseline, model.trees, threshold)
            results[name][threshold] = score(articles, model)
        line = "  ".join(f"{t:.2f}: {b:.3f}/{p:.3f}" for t, (b, p) in results[name].items())
        print(f"held out {name} (B-cubed/pairwise F1 by threshold): {line}", flush=True)

    def mean_at(threshold: float, kind: str) -> tuple[float, float]:
        picked = [results[n][threshold] for n, k, _ in sets if k == kind]
        return sum(b for b, _ in picked) / len(picked), sum(p for _, p in picked) / len(picked)

    best = max(THRESHOLDS, key=lambda t: sum(sum(mean_at(t, k)) for k in ("real", "curated")))
    report = {
        "threshold": best,
        "held_out": {
            n: {"bcubed_f1": round(r[best][0], 4), "pairwise_f1": round(r[best][1], 4)}
            for n, r in results.items()
        },
    }
    print(json.dumps(report, indent=1))
    if args.report:
        return 0
    figures = ", ".join(f"{n} {v['bcubed_f1']}/{v['pairwise_f1']}" for n, v in report["held_out"].items())
    _write(sets, rows, best, f"leave-one-set-out F1 (B-cubed/pairwise): {figures}")
    return 0


def _write(
    sets: list[tuple[str, str, list[EvalArticle]]], rows: dict[str, Rows], threshold: float, note: str
) -> None:
    x_all = [row for x, _, _ in rows.values() for row in x]
    y_all = [label for _, y, _ in rows.values() for label in y]
    about = (
        f"scripts/train_story_model.py on {', '.join(n for n, _, _ in sets)}; threshold {threshold}; {note}"
    )
    model = fit(x_all, y_all, threshold, about)
    OUT.write_text(json.dumps(model.to_json(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    raise SystemExit(main())
