from aggregator.db import Database, Story, StoryArticle

from .conftest import NOW
from .factories import sample_news


def test_sample_news_builds_linked_stories(db: Database) -> None:
    with db.session() as s:
        world = sample_news(s, NOW)
        flood = world["stories"]["flood"]  # type: ignore[index]
        assert isinstance(flood, Story)
        assert s.query(StoryArticle).filter_by(story_id=flood.id).count() == 3
        assert flood.source_count == 2  # the syndicated copy counts once
