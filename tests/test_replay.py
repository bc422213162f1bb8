"""The replay benchmark's machinery (benchmarks/replay.py) on a tiny fixture of two self-written feeds.

The benchmark itself (the real development days) is not part of the suite; this runs the same code path on
tests/fixtures/replay/: a snapshot folder with two fictional feeds and its labels, served on 127.0.0.1.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import select

from aggregator.config import Config
from aggregator.db import Database
from aggregator.db.models import Article, Run, Story, StoryArticle, StoryTopic
from aggregator.evaluation.metrics import bcubed, pairwise
from aggregator.publish.render import render_site
from benchmarks import replay as bench
from tests.cdp import find_chromium
from tests.conftest import NOW
from tests.factories import sample_news

FIXTURE = Path(__file__).parent / "fixtures" / "replay"


def fixture_day() -> bench.Day:
    folder = FIXTURE / "20261125T080000_fixture"
    return bench.Day("2026-11-25", folder, FIXTURE / "real-20261125.jsonl", bench.poll_time(folder))


def test_replay_reads_the_stories_off_the_rendered_pages(tmp_path: Path) -> None:
    day = fixture_day()
    lines: list[str] = []
    [report] = bench.replay([day], tmp_path / "work", announce=lines.append)

    db = Database(f"sqlite:///{tmp_path / 'work' / 'data' / 'aggregator.db'}")
    try:
        with db.session() as s:
            rows = s.execute(
                select(Article.url, StoryArticle.story_id)
                .join(StoryArticle, StoryArticle.article_id == Article.id)
                .join(Story, Story.id == StoryArticle.story_id)
                .where(Story.merged_into_id.is_(None))
            )
            story_of_url = {url: sid for url, sid in rows}
            chips: defaultdict[int, int] = defaultdict(int)
            for (sid,) in s.execute(select(StoryTopic.story_id)):
                chips[sid] += 1
            runs = list(s.execute(select(Run.step, Run.started_at).order_by(Run.id)))
    finally:
        db.dispose()

    # The pipeline's own steps ran, recorded in `runs`, with the clock at the snapshot's poll time.
    assert [step for step, _ in runs] == ["fetch", "cluster", "render"]
    assert {started.replace(tzinfo=day.poll.tzinfo) for _, started in runs} == {day.poll}

    # What the pages show is what the database holds: every entry found, in the story it belongs to.
    entries = bench.load_entries(day.labels)
    assert report.entries == report.found == len(entries) == 7  # one item listed twice by its feed
    site = bench.read_site(tmp_path / "work" / "site")
    on_pages = {url: story.id for story in site.stories.values() for url, _ in story.members}
    assert on_pages == {e.url: story_of_url[e.url] for e in entries}
    assert report.story_ids == sorted(set(on_pages.values()))

    predicted = {e.id: story_of_url[e.url] for e in entries}
    gold = {e.id: e.label for e in entries}
    b, pw = bcubed(predicted, gold), pairwise(predicted, gold)
    assert report.bcubed == {"p": round(b.precision, 4), "r": round(b.recall, 4), "f1": round(b.f1, 4)}
    assert report.pairwise["f1"] == round(pw.f1, 4)
    assert report.alone_bcubed_f1 == round(bcubed({i: i for i in gold}, gold).f1, 4)

    # Chips and "More on this story" are read off the same pages.
    assert report.chips == sum(chips[sid] for sid in report.story_ids)
    listed = sum(len(site.stories[sid].related) for sid in report.story_ids)
    assert report.related["all"]["shown"] == listed
    assert report.related["all"]["stories"] == report.stories == len(report.story_ids)
    # `aggregator eval stories` on the same labelled file, for comparison.
    assert report.eval_stories["articles"] == 7
    assert any(line.startswith("  eval ") for line in lines)


def test_page_reader_finds_copies_related_lists_and_chips(
    db: Database, config: Config, tmp_path: Path
) -> None:
    with db.session() as s:
        world = sample_news(s, NOW)
        stories = world["stories"]
        assert isinstance(stories, dict)
        flood, inquiry, prize = (stories[k].id for k in ("flood", "inquiry", "prize"))
        urls = {
            sid: sorted(
                url or ""
                for url in s.scalars(
                    select(Article.url)
                    .join(StoryArticle, StoryArticle.article_id == Article.id)
                    .where(StoryArticle.story_id == sid)
                )
            )
            for sid in (flood, inquiry, prize)
        }
    render_site(db, config, NOW, tmp_path / "site")
    site = bench.read_site(tmp_path / "site")

    assert sorted(site.stories) == sorted((flood, inquiry, prize))
    page = site.stories[flood]
    assert sorted(url or "" for url, _ in page.members) == urls[flood]  # the syndicated copy too
    assert len(page.members) == 3 and page.outlet_count == 2
    assert page.related == (inquiry,) and site.stories[prize].related == ()
    assert page.chips == ("Floods", "Riverton") and site.stories[inquiry].chips == ("Riverton",)
    assert set(site.front) >= {flood, prize}

    # Labels: the flood and its inquiry are one storyline; the copy's URL is an entry of its own.
    def entry(url: str, label: str, storyline: str) -> bench.Entry:
        return bench.Entry(url.rsplit("/", 1)[-1], url, url.split("/")[3], label, storyline)

    entries = [entry(u, "flood", "riverton") for u in urls[flood]]
    entries += [entry(urls[inquiry][0], "inquiry", "riverton"), entry(urls[prize][0], "prize", "prize")]
    labels = bench.LabelIndex()
    labels.add(entries)
    report = bench.DayReport("test", "now")
    bench.score_day(report, entries, site, labels)
    assert (report.entries, report.found, report.stories, report.largest) == (5, 5, 3, 3)
    assert report.bcubed["f1"] == 1.0 and report.pairwise["f1"] == 1.0
    assert report.related["all"] == {
        "stories": 3, "with_list": 2, "shown": 2, "mean_shown": 0.67, "judged": 2, "same_storyline": 2,
        "precision": 1.0,
    }  # fmt: skip
    assert report.chips == 4 and report.channel_stories == report.blobs == 0

    # A story listed under another storyline counts against the precision.
    entries[-2] = entry(urls[inquiry][0], "inquiry", "inquiries")
    labels.add(entries)
    bench.score_day(report := bench.DayReport("test", "now"), entries, site, labels)
    assert report.related["all"]["precision"] == 0.0 and report.related["all"]["judged"] == 2


def test_only_the_development_days_can_be_chosen() -> None:
    for other in ("2020-04-27", "2020-05-05", "2021-09-18"):  # any day not in the allowed list
        with pytest.raises(bench.ReplayError, match="cannot be replayed"):
            bench.select_days(["2020-04-28", other])


def test_missing_shared_data_is_a_one_line_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench, "SNAPSHOTS", tmp_path / "absent")
    assert bench.main(["--days", "2020-04-28", "--out", str(tmp_path / "work")]) != 0
    err = capsys.readouterr().err
    assert err.startswith("replay: shared data not found") and err.count("\n") == 1
    assert not (tmp_path / "work").exists()


@pytest.mark.browser
def test_replay_screenshots_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip("no Chromium found (install Debian's `chromium` and `chromium-driver` packages)")
    shots = tmp_path / "shots"
    bench.replay([fixture_day()], tmp_path / "work", chromium=chromium, screenshots=shots, compare_eval=False)
    found = sorted(p.name for p in shots.glob("*.png"))
    assert found[0] == "2026-11-25-front.png"
    for name in found:
        assert (shots / name).read_bytes().startswith(b"\x89PNG")
