"""From stories' articles to their "More on this story" lists and topics. Pure: no I/O.

    members per story (ArticleDoc, copies left out) [+ cached StoryLinks of unchanged stories]
      --build_links--> StoryLinks per story (profile for the related index, ranked topics, categories)
      --StoryLinker(links, window, count).lists(key)--> the related stories displayed for ``key``

The database glue (:mod:`aggregator.stories.links`) and the evaluation (:mod:`aggregator.evaluation.stories`)
both go through these functions, so the figures ``aggregator eval`` reports describe what the site shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, TypeVar

from .doc import ArticleDoc
from .related import Related, RelatedIndex, RelatedParams, StoryProfile
from .topics import TopicModel, TopicScore, article_profile, article_topics, story_profile, story_topics

K = TypeVar("K", int, str)  # story keys: database ids, or labels in the evaluation

ARTICLE_TOPICS = 10  # topics kept per article before a story's ranking is cut to ``stories.topic_count``


@dataclass(frozen=True)
class StoryLinks:
    """What the links stage keeps of a story (cached by the database glue)."""

    profile: StoryProfile
    topics: list[TopicScore]
    categories: list[str]  # its articles' feed categories, for the topic model to learn from


def build_links(
    members: Mapping[K, Sequence[ArticleDoc]], cached: Mapping[K, StoryLinks] | None = None
) -> dict[K, StoryLinks]:
    """Links data for every story of ``members`` (stories without articles are left out), plus ``cached``.

    The topic model learns from the categorised stories of both, then infers the topics of the fresh ones.
    """
    links: dict[K, StoryLinks] = dict(cached or {})
    model = TopicModel()
    for known in links.values():
        if known.categories:
            model.learn(known.profile, known.categories)
    fresh: dict[K, tuple[Sequence[ArticleDoc], list[StoryProfile], list[str]]] = {}
    for key, docs in members.items():
        if not docs:
            continue
        doc_profiles = [article_profile(d) for d in docs]
        categories = list(dict.fromkeys(c for d in docs for c in d.categories))
        fresh[key] = (docs, doc_profiles, categories)
        if categories:
            model.learn(story_profile(key, docs, doc_profiles, []), categories)
    for key, (docs, doc_profiles, categories) in fresh.items():
        per_article = [
            article_topics(model, d, p, ARTICLE_TOPICS) for d, p in zip(docs, doc_profiles, strict=True)
        ]
        topics = story_topics(per_article, ARTICLE_TOPICS)
        links[key] = StoryLinks(story_profile(key, docs, doc_profiles, topics), topics, categories)
    return links


class StoryLinker(Generic[K]):
    """The related-story lists of a set of stories, as the site displays them."""

    def __init__(self, links: Mapping[K, StoryLinks], window: timedelta, count: int) -> None:
        self._links: Mapping[K, StoryLinks] = links
        self._count = count
        self._index = RelatedIndex(RelatedParams(window=window))
        for key in sorted(links):
            self._index.add(links[key].profile)

    def lists(self, key: K) -> list[Related]:
        """The stories listed under ``key``'s "More on this story", in display order."""
        return self._index.related(self._links[key].profile, self._count)
