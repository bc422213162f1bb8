"""Replay the real development days through the whole product and score what the rendered site shows.

The feed snapshots of ../shared/data/feeds/news_snapshots/gesab001-headlines/daily/ are served in turn on a
real HTTP server on 127.0.0.1 (tests/httpserver.py), one day at a time, to one database and one site. For each
day the product's clock is set to the snapshot's poll time and the pipeline's own steps run, exactly as
`aggregator fetch --all`, `aggregator cluster` and `aggregator render` run them (the pipeline's step runner,
recorded in `runs`), with one configuration: the product's defaults, the day's 21 feeds at their 127.0.0.1 URLs
(synced from the config each day, as `aggregator fetch` does: the source dropped latimes.com and added
stuff.co.nz before 2021-09-20), and full-text extraction off (the snapshots have no article pages; titles and summaries as polled, like the
labels). Then the stories are read off the rendered pages, not the database: each story page's coverage
lists its articles (and their syndicated copies) by link, and the links are mapped back by URL to the day's
hand-labelled entries in ../shared/data/eval/real/real-YYYYMMDD.jsonl. Per day it prints:

- timings of every step, and the steps' own one-line results;
- entries, stories holding them, the largest story, "channel stories" (a story with >= 20 articles from one
  feed) and "blobs" (>= 40 articles), counted over each story's whole page (all days so far);
- B-cubed and pairwise precision/recall/F1 of the day's entries (aggregator/evaluation/metrics.py), beside
  the score of putting every entry alone, and what `aggregator eval stories` reports on the same day file
  (the engine fed the file alone, without the days before);
- "More on this story" read off the pages: related precision by storyline (the share of listed stories whose
  majority storyline is the story's), over all the day's stories and over its multi-outlet ones;
- topic chips on the story pages and the front page, with the most frequent ones.

Only the seven development days listed in ``ALLOWED_DAYS`` can be replayed; no other snapshot is ever
opened. The poll time of a snapshot is its folder's timestamp read as UTC,
the convention of the label files (an undated entry's `published` there is that time).

    .venv/bin/python -m benchmarks.replay                          # all seven days
    .venv/bin/python -m benchmarks.replay --days 2020-04-28,2020-04-30
    .venv/bin/python -m benchmarks.replay --screenshots            # also front page + story page PNGs
    .venv/bin/python -m benchmarks.replay --out /tmp/replay --json /tmp/replay.json

Run it from the checkout (it uses tests/httpserver.py and, for screenshots, tests/cdp.py with Debian's
Chromium). The work folder (database, site, config.toml) is kept and printed, so
`aggregator --config DIR/config.toml status` works afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lxml.html

from aggregator.config import Config, config_from_dict
from aggregator.db import Database, RunOutcome, upgrade
from aggregator.demo.runner import write_config
from aggregator.evaluation.metrics import bcubed, pairwise
from aggregator.evaluation.stories import evaluate_stories
from aggregator.ingest.feeds import sync_config_feeds
from aggregator.ingest.urls import canonical_url
from aggregator.run.locking import run_lock
from aggregator.run.pipeline import run_step
from tests.httpserver import FeedServer

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
SNAPSHOTS = SHARED_DATA / "feeds" / "news_snapshots" / "gesab001-headlines" / "daily"
LABELS = SHARED_DATA / "eval" / "real"
DEFAULT_SCREENSHOTS = REPO_ROOT / "artifacts" / "replay"

# The development days, in replay order, with their snapshot folders. Nothing else is ever opened.
ALLOWED_DAYS: dict[str, str] = {
    "2020-04-28": "20200428T090740_37e09926",
    "2020-04-30": "20200430T073657_c633e1d3",
    "2020-05-01": "20200501T064623_f4d34462",
    "2020-05-03": "20200503T032121_10f74a0c",
    "2020-05-04": "20200504T031239_f29434a0",
    "2021-09-17": "20210917T092418_4971cfe5",
    "2021-09-20": "20210920T000552_be6d9558",
}
CHANNEL_SIZE = 20  # articles from one feed in one story
BLOB_SIZE = 40  # articles in one story
TOP_CHIPS = 8

log = logging.getLogger("replay")


class ReplayError(Exception):
    """A one-line reason the replay cannot run (missing data, a day not allowed, no browser)."""


@dataclass(frozen=True)
class Day:
    name: str  # e.g. 2020-04-28
    folder: Path  # the snapshot's feed files (<stem>.xml)
    labels: Path  # the day's labelled entries (JSON Lines)
    poll: datetime  # the product's clock for the day


def poll_time(folder: Path) -> datetime:
    """A snapshot folder's timestamp (``20200428T090740_<commit>``) as UTC."""
    return datetime.strptime(folder.name.split("_", 1)[0], "%Y%m%dT%H%M%S").replace(tzinfo=UTC)


def select_days(names: Iterable[str] | None = None) -> list[Day]:
    """The chosen development days (default: all seven) in replay order; refuses any other day and missing data."""
    wanted = list(ALLOWED_DAYS) if names is None else [n.strip() for n in names if n.strip()]
    unknown = [n for n in wanted if n not in ALLOWED_DAYS]
    if unknown:
        raise ReplayError(
            f"day(s) {', '.join(unknown)} cannot be replayed; choose among {', '.join(ALLOWED_DAYS)}"
        )
    if not SNAPSHOTS.is_dir() or not LABELS.is_dir():
        raise ReplayError(
            f"shared data not found (need {SNAPSHOTS} and {LABELS}): the replay reads the real feeds there"
        )
    days = []
    for name in ALLOWED_DAYS:  # replay order, whatever order they were asked in
        if name not in wanted:
            continue
        folder = SNAPSHOTS / ALLOWED_DAYS[name]
        labels = LABELS / f"real-{name.replace('-', '')}.jsonl"
        for path in (folder, labels):
            if not path.exists():
                raise ReplayError(f"shared data incomplete: {path} not found")
        days.append(Day(name, folder, labels, poll_time(folder)))
    return days


# ---- reading the rendered site -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageStory:
    id: int
    headline: str
    outlet_count: int
    members: tuple[tuple[str | None, str], ...]  # (link or None, outlet heading), copies included
    related: tuple[int, ...]  # "More on this story", in page order
    chips: tuple[str, ...]  # "Explore more on these topics"


@dataclass(frozen=True)
class SiteRead:
    stories: dict[int, PageStory]
    front: tuple[int, ...]  # story ids on the front page, in order
    front_chips: int


_STORY_FILE = re.compile(r"(\d+)\.html$")
_HAS_CLASS = "contains(concat(' ', normalize-space(@class), ' '), ' {} ')"


def _story_id(href: str) -> int | None:
    m = _STORY_FILE.search(href.split("#", 1)[0])
    return int(m.group(1)) if m else None


def _text(el: Any) -> str:
    return " ".join(el.text_content().split())


def read_story_page(path: Path) -> PageStory | None:
    """A story page's coverage, related list and chips; None for a merged story's forwarding page."""
    root = lxml.html.document_fromstring(path.read_bytes())
    coverage = root.xpath("//section[@id='coverage']")
    story_id = _story_id(path.name)
    if not coverage or story_id is None:
        return None
    members: list[tuple[str | None, str]] = []
    for group in coverage[0].xpath(f"./section[{_HAS_CLASS.format('outlet')}]"):
        heading = group.xpath("./h3")
        outlet = _text(heading[0]) if heading else ""
        for item in group.xpath(f".//li[{_HAS_CLASS.format('article')}]"):
            title = item.xpath(f"./*[{_HAS_CLASS.format('article-title')}]")
            members.append((title[0].get("href") if title else None, outlet))
            for copy in item.xpath(f"./p[{_HAS_CLASS.format('also')}]/a"):
                members.append((copy.get("href"), _text(copy)))
    related = tuple(
        rid
        for href in root.xpath(f"//section[@id='related']//ol[{_HAS_CLASS.format('related')}]/li/a/@href")
        if (rid := _story_id(href)) is not None
    )
    chips = tuple(_text(a) for a in root.xpath("//section[@id='topics']//ul[@class='chips']/li/a"))
    badge = root.xpath("//header[@class='page-head']//span[@class='badge']")
    outlets = re.match(r"\d+", _text(badge[0])) if badge else None
    headline = root.xpath("//h1[@id='headline']")
    return PageStory(
        id=story_id,
        headline=_text(headline[0]) if headline else "",
        outlet_count=int(outlets.group()) if outlets else 0,
        members=tuple(members),
        related=related,
        chips=chips,
    )


def read_site(site: Path) -> SiteRead:
    stories = {}
    for path in sorted((site / "stories").glob("*.html")):
        story = read_story_page(path)
        if story is not None:
            stories[story.id] = story
    front: tuple[int, ...] = ()
    front_chips = 0
    index = site / "index.html"
    if index.is_file():
        root = lxml.html.document_fromstring(index.read_bytes())
        hrefs = root.xpath("//ol[@class='top-stories']/li//h2/a/@href")
        front = tuple(sid for h in hrefs if (sid := _story_id(h)) is not None)
        front_chips = len(root.xpath("//ol[@class='top-stories']//ul[@class='chips']/li"))
    return SiteRead(stories, front, front_chips)


# ---- scoring ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    id: str
    url: str
    feed: str
    label: str
    storyline: str


def load_entries(path: Path) -> list[Entry]:
    entries = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                entries.append(
                    Entry(
                        id=str(row["id"]),
                        url=str(row.get("url") or ""),
                        feed=str(row.get("feed") or ""),
                        label=str(row.get("label")),
                        storyline=str(row.get("storyline") or row.get("label")),
                    )
                )
    return entries


def _url_keys(url: str | None) -> list[str]:
    """The link as given, then canonicalised: a stored article's link may be either."""
    if not url:
        return []
    keys = [url]
    canonical = canonical_url(url)
    if canonical and canonical != url:
        keys.append(canonical)
    return keys


class LabelIndex:
    """Labelled entries by URL, over the days replayed so far (a later day's labels win for a repeated URL):
    the feed and storyline of a story's members from earlier days, too. One day's feed may list an item
    twice under one link and GUID (the product stores it once): both entries go with that link."""

    def __init__(self) -> None:
        self.by_url: dict[str, list[Entry]] = {}

    def add(self, entries: Iterable[Entry]) -> None:
        fresh: dict[str, list[Entry]] = {}
        for entry in entries:
            for key in _url_keys(entry.url):
                fresh.setdefault(key, []).append(entry)
        self.by_url.update(fresh)

    def find_all(self, url: str | None) -> list[Entry]:
        for key in _url_keys(url):
            if key in self.by_url:
                return self.by_url[key]
        return []

    def find(self, url: str | None) -> Entry | None:
        found = self.find_all(url)
        return found[0] if found else None


def _majority(values: Iterable[str]) -> str | None:
    counts = Counter(values)
    if not counts:
        return None
    return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]


@dataclass
class DayReport:
    day: str
    poll: str
    entries: int = 0
    found: int = 0  # entries found on a story page
    stories: int = 0  # stories holding the day's entries
    multi_outlet: int = 0
    largest: int = 0
    largest_headline: str = ""
    channel_stories: int = 0
    blobs: int = 0
    bcubed: dict[str, float] = field(default_factory=dict)
    pairwise: dict[str, float] = field(default_factory=dict)
    alone_bcubed_f1: float = 0.0
    eval_stories: dict[str, Any] = field(default_factory=dict)
    related: dict[str, dict[str, float]] = field(default_factory=dict)
    chips: int = 0
    stories_with_chips: int = 0
    front_stories: int = 0
    front_chips: int = 0
    top_chips: list[tuple[str, int]] = field(default_factory=list)
    story_ids: list[int] = field(default_factory=list)  # the stories holding the day's entries
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # step -> outcome, line, seconds
    seconds: dict[str, float] = field(default_factory=dict)  # read, score, eval


def _prf(p: Any) -> dict[str, float]:
    return {"p": round(p.precision, 4), "r": round(p.recall, 4), "f1": round(p.f1, 4)}


def _related_figures(stories: Sequence[PageStory], storyline: Mapping[int, str | None]) -> dict[str, float]:
    """Among the listed related stories whose storyline is known: the share with the story's own."""
    lists = listed = known = same = 0
    for story in stories:
        lists += bool(story.related)
        listed += len(story.related)
        own = storyline.get(story.id)
        if own is None:
            continue
        for rid in story.related:
            other = storyline.get(rid)
            if other is not None:
                known += 1
                same += other == own
    return {
        "stories": len(stories),
        "with_list": lists,
        "shown": listed,
        "mean_shown": round(listed / len(stories), 2) if stories else 0.0,
        "judged": known,
        "same_storyline": same,
        "precision": round(same / known, 4) if known else 0.0,
    }


def score_day(report: DayReport, entries: Sequence[Entry], site: SiteRead, labels: LabelIndex) -> None:
    """Fill ``report`` with the figures of the day's entries as the site shows them."""
    day_index = LabelIndex()
    day_index.add(entries)
    predicted: dict[str, Any] = {}
    for story in site.stories.values():
        for url, _outlet in story.members:
            for entry in day_index.find_all(url):
                predicted.setdefault(entry.id, story.id)
    gold = {e.id: e.label for e in entries}
    report.entries, report.found = len(entries), len(predicted)
    for e in entries:  # an entry no page shows is scored as standing alone
        predicted.setdefault(e.id, f"not-shown:{e.id}")
    report.bcubed = _prf(bcubed(predicted, gold))
    report.pairwise = _prf(pairwise(predicted, gold))
    report.alone_bcubed_f1 = round(bcubed({e.id: e.id for e in entries}, gold).f1, 4)

    day_ids = {sid for sid in predicted.values() if isinstance(sid, int)}
    day_stories = [site.stories[sid] for sid in sorted(day_ids)]
    report.story_ids = sorted(day_ids)
    report.stories = len(day_stories)
    report.multi_outlet = sum(1 for s in day_stories if s.outlet_count >= 2)
    for story in day_stories:
        size = len(story.members)
        if size > report.largest:
            report.largest, report.largest_headline = size, story.headline
        feeds: Counter[str] = Counter()
        for url, outlet in story.members:
            entry = labels.find(url)
            feeds[entry.feed if entry is not None else f"outlet:{outlet}"] += 1
        report.channel_stories += bool(feeds) and max(feeds.values()) >= CHANNEL_SIZE
        report.blobs += size >= BLOB_SIZE

    storyline: dict[int, str | None] = {}
    for story in site.stories.values():
        lines = []
        for url, _outlet in story.members:
            entry = day_index.find(url) or labels.find(url)
            if entry is not None:
                lines.append(entry.storyline)
        storyline[story.id] = _majority(lines)
    report.related = {
        "all": _related_figures(day_stories, storyline),
        "multi_outlet": _related_figures([s for s in day_stories if s.outlet_count >= 2], storyline),
    }
    chips = Counter(chip for s in day_stories for chip in s.chips)
    report.chips = sum(chips.values())
    report.stories_with_chips = sum(1 for s in day_stories if s.chips)
    report.top_chips = chips.most_common(TOP_CHIPS)
    report.front_stories, report.front_chips = len(site.front), site.front_chips


# ---- the replay --------------------------------------------------------------------------------------------


def replay_settings(work: Path, feed_urls: Sequence[str]) -> dict[str, Any]:
    """The one configuration: the product's defaults, the local feeds, full text off."""
    return {
        "storage": {"data_dir": str(work / "data")},
        # The snapshot server is on loopback, which the address guard refuses unless allowed.
        "fetch": {"allowed_networks": ["127.0.0.1/32"], "jitter_seconds": 0},
        "fulltext": {"default": False},
        "site": {"output_dir": str(work / "site"), "title": "Aggregator replay"},
        "feeds": [{"url": url} for url in feed_urls],
    }


def feed_files(day: Day) -> list[str]:
    """The feed file names of a day's snapshot (the 21 feeds; the source's list changed once: latimes.com was
    dropped and stuff.co.nz added before 2021-09-20)."""
    return sorted(p.name for p in day.folder.glob("*.xml"))


@dataclass(frozen=True)
class Screenshots:
    front: Path
    story: Path | None


def _pick_story(site: SiteRead, report_ids: Iterable[int]) -> PageStory | None:
    """The day's story with the most outlets (then the most articles, then the lowest id), if >= 2 outlets."""
    candidates = [site.stories[i] for i in report_ids if i in site.stories]
    candidates = [s for s in candidates if s.outlet_count >= 2]
    if not candidates:
        return None
    return min(candidates, key=lambda s: (-s.outlet_count, -len(s.members), s.id))


def take_screenshots(chromium: str, site_dir: Path, out: Path, day: str, story: int | None) -> Screenshots:
    """The front page and one story page in headless Chromium, served from 127.0.0.1."""
    from tests.cdp import launch

    front = out / f"{day}-front.png"
    story_png = out / f"{day}-story-{story}.png" if story is not None else None

    async def shoot(base: str) -> None:
        async with launch(chromium) as browser:
            await browser.open_page()
            await browser.goto(f"{base}index.html")
            await browser.screenshot(front)
            if story_png is not None:
                await browser.goto(f"{base}stories/{story}.html")
                await browser.screenshot(story_png)

    with FeedServer() as server:
        base = server.files("/site/", site_dir.resolve())
        asyncio.run(shoot(base))
    return Screenshots(front, story_png)


Announce = Callable[[str], None]


def replay(
    days: Sequence[Day],
    work: Path,
    *,
    announce: Announce = lambda line: None,
    chromium: str | None = None,
    screenshots: Path | None = None,
    compare_eval: bool = True,
) -> list[DayReport]:
    """Serve each day's snapshot on 127.0.0.1, run fetch, cluster and render with the clock at its poll time,
    read the site and score it. One database and one site for all the days, in order."""
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    reports: list[DayReport] = []
    labels = LabelIndex()
    with FeedServer() as server:
        base = server.files("/feeds/", days[0].folder)
        db: Database | None = None
        try:
            for day in days:
                # The same URLs now serve this day's snapshot. The config lists the day's feeds (the same
                # settings every day): a feed gone from the snapshot is dropped from the config and so no
                # longer polled, a new one is added, as `aggregator fetch` syncs them from an edited file.
                server.files("/feeds/", day.folder)
                announce(f"== {day.name}: snapshot {day.folder.name}, clock {_iso(day.poll)}")
                settings = replay_settings(work, [base + name for name in feed_files(day)])
                config = config_from_dict(settings, "(replay configuration)", work, environ={})
                write_config(work / "config.toml", settings)
                if db is None:
                    db = Database(config.database_url)
                    upgrade(db)
                with db.session() as s:
                    sync = sync_config_feeds(s, config.feeds, now=day.poll)
                if reports:  # on the first day every feed is new
                    for url in (*sync.added, *sync.reactivated):
                        announce(f"  feed now listed: {url}")
                for url in sync.removed:
                    announce(f"  feed no longer listed (kept, not polled): {url}")
                report, site = replay_day(db, config, day, labels, announce, compare_eval)
                if screenshots is not None and chromium is not None:
                    pick = _pick_story(site, report.story_ids)
                    shots = take_screenshots(
                        chromium, config.site_dir, screenshots, day.name, pick.id if pick else None
                    )
                    announce(f"  screenshots: {shots.front}" + (f", {shots.story}" if shots.story else ""))
                reports.append(report)
        finally:
            if db is not None:
                db.dispose()
    return reports


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def replay_day(
    db: Database, config: Config, day: Day, labels: LabelIndex, announce: Announce, compare_eval: bool
) -> tuple[DayReport, SiteRead]:
    report = DayReport(day.name, _iso(day.poll))

    def clock() -> datetime:
        return day.poll

    with run_lock(db, config.data_dir):
        steps: tuple[tuple[str, dict[str, Any]], ...] = (
            ("fetch", {"all": True}),
            ("cluster", {}),
            ("render", {}),
        )
        for step, options in steps:
            started = time.perf_counter()
            result = run_step(db, config, clock, step, **options)
            seconds = time.perf_counter() - started
            report.steps[step] = {
                "outcome": str(result.outcome),
                "seconds": round(seconds, 2),
                "line": result.line,
            }
            announce(f"  {step:8} {seconds:7.2f} s  {result.line}")
            if result.outcome == RunOutcome.ERROR:
                raise ReplayError(f"{day.name}: {result.line}")

    started = time.perf_counter()
    site = read_site(config.site_dir)
    entries = load_entries(day.labels)
    labels.add(entries)
    report.seconds["read"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    score_day(report, entries, site, labels)
    report.seconds["score"] = round(time.perf_counter() - started, 2)
    announce(
        f"  read     {report.seconds['read']:7.2f} s  {len(site.stories)} story pages, "
        f"{report.front_stories} stories on the front page"
    )
    if compare_eval:
        started = time.perf_counter()
        report.eval_stories = evaluate_stories(day.labels, config.stories).as_dict()
        report.seconds["eval"] = round(time.perf_counter() - started, 2)
    for line in day_lines(report):
        announce(line)
    return report, site


def _fmt(p: Mapping[str, float]) -> str:
    return f"P {p['p']:.3f} R {p['r']:.3f} F1 {p['f1']:.3f}"


def day_lines(r: DayReport) -> list[str]:
    lines = [
        f"  entries  {r.entries} ({r.entries - r.found} not on any story page); {r.stories} stories hold them "
        f"({r.multi_outlet} with >= 2 outlets)",
        f"  sizes    largest {r.largest} articles ({r.largest_headline[:70]!r}); channel stories "
        f"(>= {CHANNEL_SIZE} from one feed) {r.channel_stories}; blobs (>= {BLOB_SIZE}) {r.blobs}",
        f"  site     B-cubed {_fmt(r.bcubed)}; pairwise {_fmt(r.pairwise)}; all alone: B-cubed F1 "
        f"{r.alone_bcubed_f1:.3f}",
    ]
    if r.eval_stories:
        e = r.eval_stories
        extra = {
            k: v
            for k, v in e.items()
            if k not in ("bcubed_p", "bcubed_r", "bcubed_f1", "pairwise_p", "pairwise_r", "pairwise_f1")
        }
        lines.append(
            f"  eval     B-cubed P {e['bcubed_p']:.3f} R {e['bcubed_r']:.3f} F1 {e['bcubed_f1']:.3f}; pairwise "
            f"P {e['pairwise_p']:.3f} R {e['pairwise_r']:.3f} F1 {e['pairwise_f1']:.3f} "
            f"(aggregator eval stories, {r.seconds.get('eval', 0):.1f} s)"
        )
        lines.append("           " + ", ".join(f"{k} {v}" for k, v in extra.items()))
    for scope, f in r.related.items():
        lines.append(
            f"  related  {scope}: precision by storyline {f['precision']:.3f} ({f['same_storyline']} of "
            f"{f['judged']} listed); {f['shown']} listed under {f['with_list']} of {f['stories']} stories "
            f"(mean {f['mean_shown']})"
        )
    top = ", ".join(f"{chip} ({n})" for chip, n in r.top_chips)
    lines.append(
        f"  chips    {r.chips} on the day's story pages ({r.stories_with_chips} stories with any); "
        f"{r.front_chips} on the front page; most shown: {top or '-'}"
    )
    return lines


def summary_lines(reports: Sequence[DayReport]) -> list[str]:
    head = (
        f"{'day':10} {'entries':>7} {'stories':>7} {'largest':>7} {'chan':>4} {'blobs':>5} "
        f"{'B3 F1':>6} {'pw F1':>6} {'evalB3':>6} {'evalpw':>6} {'rel P':>6} {'chips':>5} "
        f"{'fetch s':>7} {'clust s':>7} {'rend s':>7}"
    )
    lines = ["", head]
    for r in reports:
        e = r.eval_stories
        lines.append(
            f"{r.day:10} {r.entries:7} {r.stories:7} {r.largest:7} {r.channel_stories:4} {r.blobs:5} "
            f"{r.bcubed['f1']:6.3f} {r.pairwise['f1']:6.3f} "
            f"{e.get('bcubed_f1', float('nan')):6.3f} {e.get('pairwise_f1', float('nan')):6.3f} "
            f"{r.related['all']['precision']:6.3f} {r.chips:5} "
            f"{r.steps['fetch']['seconds']:7.2f} {r.steps['cluster']['seconds']:7.2f} "
            f"{r.steps['render']['seconds']:7.2f}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.replay", description=__doc__.split("\n\n", 1)[0]
    )
    parser.add_argument(
        "--days",
        help=f"comma-separated days to replay, in replay order whatever the order given (default: all of "
        f"{', '.join(ALLOWED_DAYS)})",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="work folder for the database, site and config (default: a new temporary one)",
    )
    parser.add_argument(
        "--screenshots",
        nargs="?",
        const=DEFAULT_SCREENSHOTS,
        type=Path,
        metavar="DIR",
        help=f"after each day, screenshot the front page and one multi-outlet story page with headless "
        f"Chromium into DIR (default: {DEFAULT_SCREENSHOTS.relative_to(REPO_ROOT)}/ in the checkout)",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every figure to FILE as JSON")
    parser.add_argument(
        "--no-eval", action="store_true", help="skip the `aggregator eval stories` figures per day"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        days = select_days(args.days.split(",") if args.days else None)
        chromium = None
        if args.screenshots is not None:
            from tests.cdp import find_chromium

            chromium = find_chromium()
            if chromium is None:
                raise ReplayError(
                    "--screenshots needs Chromium (apt-get install chromium chromium-driver, as .ci/run does)"
                )
        work = args.out or Path(tempfile.mkdtemp(prefix="aggregator-replay-"))
        print(f"replaying {len(days)} day(s) into {work}", flush=True)
        reports = replay(
            days,
            work,
            announce=lambda line: print(line, flush=True),
            chromium=chromium,
            screenshots=args.screenshots,
            compare_eval=not args.no_eval,
        )
    except ReplayError as e:
        print(f"replay: {e}", file=sys.stderr)
        return 2
    for line in summary_lines(reports):
        print(line)
    print(f"\nwork folder: {work} (aggregator --config {work / 'config.toml'} status)")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in reports], indent=1) + "\n", encoding="utf-8")
        print(f"figures: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
