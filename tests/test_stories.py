import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import select

from aggregator.config import Config
from aggregator.db import Database
from aggregator.db.models import Article, Feed, Run, Story, StoryArticle
from aggregator.stories import cluster as stories_module
from aggregator.stories.cluster import cluster_pending
from aggregator.stories.doc import ArticleDoc

from .conftest import NOW
from .factories import make_article, make_feed
from .story_fixtures import copy_of, event_stream


def store(db: Database, docs: list[ArticleDoc]) -> dict[str, int]:
    """The fixture reports as articles of three feeds; returns article ids by fixture id."""
    ids = {}
    with db.session() as s:
        feeds = {f.title: f for f in s.scalars(select(Feed))}
        for d in docs:
            if d.source not in feeds:
                feeds[d.source] = make_feed(s, f"http://127.0.0.1:9/{d.source}.xml", title=d.source, now=NOW)
            paragraphs = "".join(f"<p>{p}.</p>" for p in d.text.split(". ") if p)
            article = make_article(
                s, feeds[d.source], title=d.title, published=d.published, content=paragraphs
            )
            ids[d.id] = article.id
    return ids


def grouping(db: Database) -> dict[int, int]:
    with db.session() as s:
        return dict(s.execute(select(StoryArticle.article_id, StoryArticle.story_id)).all())


def test_cluster_pending_builds_stories_copies_and_counts(db: Database, config: Config) -> None:
    ids = store(db, event_stream())
    summary = cluster_pending(db, config, NOW, batch_size=3)
    assert summary.articles == 7 and summary.batches == 3
    assert summary.duplicates == 1
    groups = grouping(db)
    assert groups[ids["q1"]] == groups[ids["q2"]] == groups[ids["q3"]] == groups[ids["q1-copy"]]
    assert groups[ids["b1"]] == groups[ids["b2"]] != groups[ids["q1"]]
    assert groups[ids["q4"]] not in {groups[ids["q1"]], groups[ids["b1"]]}
    assert sorted(summary.changed_story_ids) == sorted(set(groups.values()))
    with db.session() as s:
        copy = s.get(Article, ids["q1-copy"])
        assert copy is not None
        assert copy.duplicate_of_id == ids["q1"] and copy.duplicate_reason == "text"
        assert all(a.clustered_at == NOW for a in s.scalars(select(Article)))
        quake = s.get(Story, groups[ids["q1"]])
        assert quake is not None
        assert quake.article_count == 4
        assert quake.source_count == 3  # a, b and c (c ran a copy and a report of its own)
        assert quake.title.startswith("Magnitude 6.8 earthquake")
        assert quake.engine_state is not None and quake.engine_state["size"] == 3


def test_a_syndicated_copy_does_not_count_as_another_outlet(db: Database, config: Config) -> None:
    first = event_stream()[0]
    ids = store(db, [first, copy_of(first, "copy", hours=1, source="c.example")])
    cluster_pending(db, config, NOW)
    with db.session() as s:
        story = s.get(Story, grouping(db)[ids["copy"]])
        assert story is not None and story.article_count == 2 and story.source_count == 1


def test_running_again_changes_nothing(db: Database, config: Config) -> None:
    store(db, event_stream())
    cluster_pending(db, config, NOW)
    before = grouping(db)
    again = cluster_pending(db, config, NOW)
    assert again.articles == 0 and again.changed_story_ids == []
    assert grouping(db) == before


def test_new_articles_join_stories_rebuilt_from_the_database(db: Database, config: Config) -> None:
    docs = event_stream()
    ids = store(db, docs[:3])
    cluster_pending(db, config, NOW)
    ids |= store(db, docs[3:])
    second = cluster_pending(db, config, NOW)
    groups = grouping(db)
    assert second.articles == 4
    assert groups[ids["q3"]] == groups[ids["q1"]]  # joined a story created by the previous run
    assert groups[ids["b2"]] == groups[ids["b1"]]
    with db.session() as s:
        copy = s.get(Article, ids["q1-copy"])
        assert copy is not None and copy.duplicate_of_id == ids["q1"]


def test_a_crash_loses_only_the_batch_in_progress_and_the_rerun_finishes(
    db: Database, config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = store(db, event_stream())
    record = stories_module._record
    calls = 0

    def failing(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 4:
            raise RuntimeError("power cut")
        record(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stories_module, "_record", failing)
    with pytest.raises(RuntimeError):
        cluster_pending(db, config, NOW, batch_size=2)
    monkeypatch.setattr(stories_module, "_record", record)
    assert len(grouping(db)) == 2  # the first batch was committed, the second rolled back
    cluster_pending(db, config, NOW, batch_size=2)
    groups = grouping(db)
    assert set(groups) == set(ids.values())
    assert groups[ids["q1"]] == groups[ids["q2"]] == groups[ids["q3"]]
    assert groups[ids["b1"]] == groups[ids["b2"]] != groups[ids["q1"]]


def test_cluster_command(write_config: Callable[..., Path], run_cli: Callable[..., Result]) -> None:
    path = write_config()
    assert run_cli(path, "init").exit_code == 0
    config_db = Database(f"sqlite:///{path.parent / 'data' / 'aggregator.db'}")
    store(config_db, event_stream())
    config_db.dispose()
    result = run_cli(path, "cluster")
    assert result.exit_code == 0, result.output
    assert "cluster: 7 articles" in result.output and "1 copies" in result.output
    assert "cluster: 0 articles" in run_cli(path, "cluster").output
    with config_db.session() as s:
        runs = s.scalars(select(Run).where(Run.step == "cluster").order_by(Run.id)).all()
        assert [r.outcome for r in runs] == ["ok", "ok"]
        assert runs[0].counts is not None and runs[0].counts["articles"] == 7
    config_db.dispose()


def test_eval_stories_command(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    rows = []
    for d in event_stream():
        label = d.id[0] if d.id != "q4" else "q4"
        rows.append({"id": d.id, "title": d.title, "text": d.text, "published": d.published.isoformat()
                     if d.published else None, "source": d.source, "label": label})  # fmt: skip
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    result = run_cli(None, "eval", "stories", str(path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert {
        "bcubed_p",
        "bcubed_r",
        "bcubed_f1",
        "pairwise_f1",
        "clusters",
        "gold_clusters",
        "ms_per_article",
    } <= set(report)
    assert report["bcubed_f1"] == 1.0 and report["clusters"] == report["gold_clusters"] == 3
    text = run_cli(None, "eval", "stories", str(path)).output
    assert "B-cubed" in text and "pairwise" in text and "ms per article" in text


def test_an_edited_article_keeps_its_story(db: Database, config: Config) -> None:
    ids = store(db, event_stream())
    cluster_pending(db, config, NOW)
    before = grouping(db)
    with db.session() as s:  # the publisher edits a report: storage resets clustered_at, as store.py does
        article = s.get(Article, ids["q2"])
        assert article is not None
        article.title = "Chile lifts tsunami warning after 6.8 quake near Iquique (updated)"
        article.clustered_at = None
    again = cluster_pending(db, config, NOW)
    assert again.articles == 1 and again.new_stories == 0
    assert grouping(db) == before
    assert again.changed_story_ids == [before[ids["q2"]]]


def test_a_copy_found_by_url_joins_its_originals_story(db: Database, config: Config) -> None:
    first = event_stream()[0]
    ids = store(db, [first])
    cluster_pending(db, config, NOW)
    with db.session() as s:
        feed = make_feed(s, "http://127.0.0.1:9/partner.xml", title="partner", now=NOW)
        copy = make_article(
            s, feed, title="A different headline on the partner site", published=NOW,
            duplicate_of_id=ids["q1"], duplicate_reason="url",
        )  # fmt: skip
        copy_id = copy.id
    summary = cluster_pending(db, config, NOW)
    assert summary.duplicates == 1 and summary.new_stories == 0
    groups = grouping(db)
    assert groups[copy_id] == groups[ids["q1"]]
    with db.session() as s:
        row = s.get(Article, copy_id)
        assert row is not None and row.duplicate_reason == "url" and row.clustered_at == NOW
