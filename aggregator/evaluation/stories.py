"""`aggregator eval stories`: replay a labelled set through dedupe and clustering, score against the labels.

The articles go through the production :class:`~aggregator.stories.engine.StoryEngine` with the given (default)
:class:`~aggregator.config.StoriesConfig`, one at a time in arrival order (by ``published``, undated ones
after the dated in file order), exactly as ``aggregator cluster`` feeds it from the database.

Files that carry them (the real feed days) are also scored on copies (``copy_of``) and on the "More on this
story" lists (``storyline``): the lists the site would display for the day's stories, computed by the site's own
code (:mod:`aggregator.stories.linking`, the settings' ``related_count`` and ``related_window_days``), for the
engine's stories and, apart, for the gold stories (``label``), to tell the linker's errors from the clustering's.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from ..config import StoriesConfig
from ..stories.doc import ArticleDoc
from ..stories.engine import StoryEngine, cluster_stream
from ..stories.linking import K, StoryLinker, build_links
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
    ms_per_article: float
    # Against `copy_of`, when the file carries it.
    copies_p: float | None = None
    copies_r: float | None = None
    # "More on this story" of the predicted stories against `storyline`, when the file carries it ...
    related_precision: float | None = None
    related_recall: float | None = None
    related_shown: float | None = None
    # ... and of the gold stories (`label`): the linker's quality apart from the clustering's.
    gold_related_precision: float | None = None
    gold_related_recall: float | None = None
    gold_related_shown: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Clustering:
    stories: dict[str, int]  # article id -> the story it is in
    copies: dict[str, str]  # article id -> the original's id, for the articles found to be copies
    seconds: float  # spent in the engine


def cluster_articles(
    articles: list[EvalArticle], settings: StoriesConfig, model: JoinModel | None = None
) -> Clustering:
    """Predicted story per article id, copies found, and seconds spent in the engine: in arrival order,
    in batches observed whole before their articles are added (:func:`cluster_stream`), as
    ``aggregator cluster`` does with its pending articles."""
    engine = StoryEngine(settings, model=model)
    assigned: dict[str, int] = {}
    copies: dict[str, str] = {}
    started = time.perf_counter()
    for doc, result in cluster_stream(engine, [a.doc for a in stream_order(articles)]):
        assigned[doc.id] = result.story_id
        if result.duplicate_of is not None:
            copies[doc.id] = result.duplicate_of
    elapsed = time.perf_counter() - started
    return Clustering(assigned, copies, elapsed)


def copy_scores(articles: Sequence[EvalArticle], predicted: Mapping[str, str]) -> tuple[float, float]:
    """Precision and recall of the copies found (article -> its original) against the gold ``copy_of``.

    Gold copies form groups (an original and every line that republishes it, through chains of ``copy_of``).
    A predicted pair is right when both are in one group: the article copies the original, or the original is
    taken for the copy, or both copy one original. A gold copy is found when the engine took it for a copy of
    a member of its group, or took its original for a copy of it.
    """
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    gold = {a.doc.id: a.copy_of for a in articles if a.copy_of is not None}
    for copy, original in sorted(gold.items()):
        ra, rb = root(copy), root(original)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    grouped = set(gold) | set(gold.values())

    def together(a: str, b: str) -> bool:
        return a in grouped and b in grouped and root(a) == root(b)

    right = sum(together(a, o) for a, o in predicted.items())
    found = sum(
        (a in predicted and together(a, predicted[a])) or predicted.get(o) == a for a, o in gold.items()
    )
    precision = right / len(predicted) if predicted else 1.0
    recall = found / len(gold) if gold else 1.0
    return precision, recall


def displayed_lists(members: Mapping[K, Sequence[ArticleDoc]], settings: StoriesConfig) -> dict[K, list[K]]:
    """The "More on this story" list of every story, through the code and settings the site uses."""
    links = build_links(members)
    linker = StoryLinker(links, timedelta(days=settings.related_window_days), settings.related_count)
    return {key: [cast(K, r.key) for r in linker.lists(key)] for key in links}


def related_scores(lists: Mapping[K, Sequence[K]], storyline: Mapping[K, str]) -> tuple[float, float, float]:
    """Precision of the displayed items (the listed story has the story's storyline), recall of the
    same-storyline story pairs (listed in either direction), and the mean list length."""
    keys = [k for k in lists if k in storyline]
    shown = [(k, r) for k in keys for r in lists[k] if r in storyline]
    right = sum(storyline[k] == storyline[r] for k, r in shown)
    listed = {frozenset((k, r)) for k, r in shown if storyline[k] == storyline[r]}
    sizes = Counter(storyline[k] for k in keys)
    pairs = sum(n * (n - 1) // 2 for n in sizes.values())
    precision = right / len(shown) if shown else 1.0
    recall = len(listed) / pairs if pairs else 1.0
    return precision, recall, len(shown) / len(keys) if keys else 0.0


def story_members(articles: Sequence[EvalArticle], story_of: Mapping[str, K]) -> dict[K, list[ArticleDoc]]:
    """Each story's articles in arrival order, copies left out (as the site's links stage reads them)."""
    members: dict[K, list[ArticleDoc]] = {}
    for article in stream_order(list(articles)):
        if article.doc.id in story_of:
            members.setdefault(story_of[article.doc.id], []).append(article.doc)
    return members


def storylines(articles: Sequence[EvalArticle], story_of: Mapping[str, K]) -> dict[K, str]:
    """A story's storyline: the most common gold storyline of its members (the earliest on a tie)."""
    votes: dict[K, Counter[str]] = {}
    for article in stream_order(list(articles)):
        if article.storyline is not None and article.doc.id in story_of:
            votes.setdefault(story_of[article.doc.id], Counter())[article.storyline] += 1
    return {key: counts.most_common(1)[0][0] for key, counts in votes.items()}


def evaluate_related_days(
    articles: Sequence[EvalArticle], story_of: Mapping[str, K], settings: StoriesConfig
) -> tuple[float, float, float]:
    """``related_scores`` of the lists displayed for the stories ``story_of`` makes of ``articles``."""
    lists = displayed_lists(story_members(articles, story_of), settings)
    return related_scores(lists, storylines(articles, story_of))


def evaluate_stories(path: Path, settings: StoriesConfig | None = None) -> StoriesReport:
    settings = settings or StoriesConfig()
    articles = load_articles(path)
    gold = {a.doc.id: a.label for a in articles if a.label is not None}
    if not gold:
        raise EvalDataError(f"{path}: no article carries a gold `label`; not a stories evaluation set")
    found = cluster_articles(articles, settings)
    predicted = found.stories
    b = bcubed(predicted, gold)
    pw = pairwise(predicted, gold)
    extra: dict[str, float] = {}
    if any("copy_of" in a.gold_fields for a in articles):
        extra["copies_p"], extra["copies_r"] = copy_scores(articles, found.copies)
    if any(a.storyline is not None for a in articles):
        originals = [a for a in articles if a.doc.id not in found.copies]
        p, r, shown = evaluate_related_days(originals, predicted, settings)
        extra.update(related_precision=p, related_recall=r, related_shown=shown)
        gold_originals = [a for a in articles if a.copy_of is None]
        p, r, shown = evaluate_related_days(gold_originals, gold, settings)
        extra.update(gold_related_precision=p, gold_related_recall=r, gold_related_shown=shown)
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
        duplicates=len(found.copies),
        ms_per_article=1000 * found.seconds / max(1, len(articles)),
        **extra,
    )
