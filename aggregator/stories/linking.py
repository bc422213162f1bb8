"""From stories' articles to their "More on this story" lists and topics. Pure: no I/O.

    members per story (ArticleDoc, copies left out, categories cleaned with their feed's vocabulary)
    [+ cached StoryLinks of unchanged stories]
      --build_links--> StoryLinks per story (profile for the related index, the topics a story may show
        (:func:`~aggregator.stories.topics.shown_story_topics`), categories and the outlets they come from,
        storyline evidence; items the kind detector marks as not news are never listable)
      --StoryLinker(links, window, count).lists(key)--> the related stories displayed for ``key``:
        the related index's candidates, scored by the storyline model (:mod:`aggregator.stories.storylines`),
        cut at its threshold, in date order

The database glue (:mod:`aggregator.stories.links`), the evaluation (:mod:`aggregator.evaluation.stories`,
:mod:`aggregator.evaluation.chips`) and ``scripts/train_storylines.py`` all go through these functions, so the figures ``aggregator eval`` reports describe what the site shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Generic, TypeVar, cast

from .doc import ArticleDoc
from .hygiene import FeedHygiene
from .related import Related, RelatedIndex, RelatedParams, StoryProfile
from .storylines import (
    FAR_APART,
    Frequencies,
    Listable,
    StoryEvidence,
    StorylineModel,
    default_model,
    news_item,
    other_edition,
    pair_features,
    story_evidence,
)
from .topics import TopicModel, TopicScore, article_profile, article_topics, shown_story_topics, story_profile

K = TypeVar("K", int, str)  # story keys: database ids, or labels in the evaluation

HUB_SIZE = 10  # the best candidates two stories' lists are compared on (their shared neighbours)
ARTICLE_TOPICS = 10  # topics kept per article before a story's ranking is cut to ``stories.topic_count``


@dataclass(frozen=True)
class StoryLinks:
    """What the links stage keeps of a story (cached by the database glue)."""

    profile: StoryProfile
    topics: list[TopicScore]
    categories: list[str]  # its articles' feed categories (cleaned), for the topic model to learn from
    category_outlets: list[str]  # the outlets those categories come from
    evidence: StoryEvidence  # what it offers as evidence of a shared storyline


def build_links(
    members: Mapping[K, Sequence[ArticleDoc]],
    cached: Mapping[K, StoryLinks] | None = None,
    listable: Listable = news_item,
    hygiene: FeedHygiene | None = None,
) -> dict[K, StoryLinks]:
    """Links data for every story of ``members`` (stories without articles are left out), plus ``cached``.

    Summaries are read without their feed's boilerplate first (a channel's description would make every
    video of the channel a candidate for every story holding one): ``hygiene`` knows the feeds (the links
    stage learns it from each feed's latest items); without it, it is learned from the members themselves.

    The topic model learns from the categorised stories of both (with the outlets each key comes from: one
    outlet's private vocabulary is lent to that outlet's articles only), then infers the topics of the fresh
    ones; a story keeps the topics :func:`~aggregator.stories.topics.shown_story_topics` allows. The members'
    categories are expected cleaned already (:class:`~aggregator.stories.categories.FeedVocabulary`, which needs
    the entry's author and its feed's recent items: the callers have them). ``listable`` tells the items that
    may be listed under another story: by default news by the item-kind detector (not a live blog or a round-up).
    """
    cleaned = without_boilerplate(members, hygiene)
    links: dict[K, StoryLinks] = dict(cached or {})
    model = TopicModel()
    for known in links.values():
        if known.categories:
            model.learn(known.profile, known.categories, known.category_outlets)
    fresh: dict[K, tuple[Sequence[ArticleDoc], list[StoryProfile], list[str], list[str]]] = {}
    for key, own in cleaned.items():
        docs: Sequence[ArticleDoc] = own
        if not docs:
            continue
        doc_profiles = [article_profile(d) for d in docs]
        categories = list(dict.fromkeys(c for d in docs for c in d.categories))
        outlets = sorted({d.source for d in docs if d.categories and d.source})
        fresh[key] = (docs, doc_profiles, categories, outlets)
        if categories:
            model.learn(story_profile(key, docs, doc_profiles, []), categories, outlets)
    for key, (docs, doc_profiles, categories, outlets) in fresh.items():
        per_article = [
            article_topics(model, d, p, ARTICLE_TOPICS) for d, p in zip(docs, doc_profiles, strict=True)
        ]
        topics = shown_story_topics(per_article, docs, ARTICLE_TOPICS)
        profile = story_profile(key, docs, doc_profiles, topics)
        links[key] = StoryLinks(profile, topics, categories, outlets, story_evidence(docs, listable))
    return links


def without_boilerplate(
    members: Mapping[K, Sequence[ArticleDoc]], hygiene: FeedHygiene | None = None
) -> dict[K, list[ArticleDoc]]:
    """The members with each summary stripped of its feed's recurring runs (links, "subscribe", channel text)."""
    if hygiene is None:
        hygiene = FeedHygiene()
        for docs in members.values():
            for d in docs:
                hygiene.observe(d.id, d.feed, d.title, d.summary)
    return {
        key: [
            replace(d, summary=hygiene.clean(d.feed, d.title, d.summary).body) if d.summary else d
            for d in docs
        ]
        for key, docs in members.items()
    }


class StoryLinker(Generic[K]):
    """The related-story lists of a set of stories (a window of them), as the site displays them.

    A story's candidates are the related index's best ``model.candidates``; those among its ``HUB_SIZE`` best that
    also have it among their own ``HUB_SIZE`` best, and that the storyline model scores at least its threshold, are
    listed, at most ``count`` (the likeliest), in date order: a timeline of the storyline. The stories those list
    are listed too when the product of the two links reaches the threshold (a storyline's hub: the weekend's beach closures meet
    through the big beach-crowds story), unless the titles' numbers say they are another edition of a template.
    """

    def __init__(
        self,
        links: Mapping[K, StoryLinks],
        window: timedelta,
        count: int,
        model: StorylineModel | None = None,
    ) -> None:
        self._links: Mapping[K, StoryLinks] = links
        self._count = count
        self._model = model or default_model()
        self._freq = Frequencies(link.evidence for link in links.values())
        self._index = RelatedIndex(RelatedParams(window=window))
        self._ranked_cache: dict[K, list[Related]] = {}
        self._direct_cache: dict[K, list[tuple[float, K]]] = {}
        for key in sorted(links):
            self._index.add(links[key].profile)

    def _ranked(self, key: K) -> list[Related]:
        found = self._ranked_cache.get(key)
        if found is None:
            found = self._index.related(self._links[key].profile, self._model.candidates)
            self._ranked_cache[key] = found
        return found

    def candidates(self, key: K) -> list[tuple[K, list[float]]]:
        """The index's best candidates for ``key`` that may be listed, best first, with the model's features."""
        query = self._links[key]
        ranked = self._ranked(key)
        near = {r.key for r in ranked[:HUB_SIZE]}
        found = []
        for rank, rel in enumerate(ranked, 1):
            other_key = cast(K, rel.key)
            other = self._links[other_key]
            if not other.evidence.listable:
                continue
            theirs = self._ranked(other_key)
            their_near = {r.key for r in theirs[:HUB_SIZE]} - {key}
            mutual = next((i for i, r in enumerate(theirs, 1) if r.key == key), None)
            features = pair_features(
                query.evidence,
                other.evidence,
                similarity=rel.score,
                rank=rank,
                same_feed=bool(query.profile.feeds & other.profile.feeds),
                freq=self._freq,
                neighbours=len(their_near & near) / HUB_SIZE,
                mutual_rank=mutual,
            )
            found.append((other_key, features))
        return found

    def apart(self, key: K, other: K) -> bool:
        """Whether two stories are ``FAR_APART`` or more apart (then the model's far bar applies)."""
        a, b = self._links[key].profile.time, self._links[other].profile.time
        return a is not None and b is not None and abs(a - b) >= FAR_APART

    def _mutual(self, key: K, other: K) -> bool:
        """Whether each story is among the other's ``HUB_SIZE`` best candidates: stories of one storyline find each
        other, while a story that is one of many on a subject (a famous name, a country) is far down the other's list
        or the other is far down its own."""
        return any(r.key == other for r in self._ranked(key)[:HUB_SIZE]) and any(
            r.key == key for r in self._ranked(other)[:HUB_SIZE]
        )

    def _direct(self, key: K) -> list[tuple[float, K]]:
        """The stories the model links to ``key`` directly, likeliest first."""
        found = self._direct_cache.get(key)
        if found is None:
            model = self._model
            evidence = self._links[key].evidence
            scored = [
                (model.probability(f), k)
                for k, f in self.candidates(key)
                if self._mutual(key, k) and not other_edition(evidence, self._links[k].evidence)
            ]
            found = sorted(
                (s for s in scored if s[0] >= model.bar(self.apart(key, s[1]))),
                key=lambda s: (-s[0], str(s[1])),
            )
            self._direct_cache[key] = found
        return found

    def lists(self, key: K) -> list[Related]:
        """The stories listed under ``key``'s "More on this story", in display order (by date); the score is the
        model's probability that they share ``key``'s storyline (for a story reached through a linked one, the
        product of the two links', which must itself reach the threshold: a storyline's hub joins the reports
        around it, a chain of weaker links does not)."""
        direct = self._direct(key)
        best: dict[K, float] = {k: p for p, k in direct}
        reached: dict[K, float] = {}
        for p, hub in direct:
            for q, k in self._direct(hub):
                if (
                    k != key
                    and k not in best
                    and p * q >= self._model.bar(self.apart(key, k))
                    and not other_edition(self._links[key].evidence, self._links[k].evidence)
                ):
                    reached[k] = max(reached.get(k, 0.0), p * q)
        best.update(reached)
        kept = sorted(((p, k) for k, p in best.items()), key=lambda s: (-s[0], str(s[1])))
        chosen = kept[: self._count]
        far = datetime.max.replace(tzinfo=UTC)
        chosen.sort(key=lambda s: (self._links[s[1]].profile.time or far, str(s[1])))
        return [Related(k, p) for p, k in chosen]
