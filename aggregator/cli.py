"""Command-line entry points: a thin shell over the library functions."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from . import __version__
from .config import Config, find_config_path, load_config, reference_markdown
from .db import Database, FeedStatus, RunOutcome, check_schema, upgrade
from .db.engine import is_unusable, problem
from .errors import AggregatorError
from .evaluation.chips import evaluate_chips
from .evaluation.related import evaluate_related
from .evaluation.topics import evaluate_topics
from .ingest.feeds import add_feed, import_feeds, list_feeds, remove_feed, sync_config_feeds
from .ingest.fetch import FeedOutcome
from .ingest.guard import AddressPolicy
from .ingest.opml import export_opml, parse_opml
from .publish.newsletter import preview_newsletter, transport_for
from .run.locking import run_lock
from .run.pipeline import StepResult, run_cycle, run_step
from .run.status import gather_status

log = logging.getLogger("aggregator")


def utcnow() -> datetime:
    return datetime.now(UTC)


class App:
    """What every command needs: the configuration, the clock, and the database once asked for."""

    def __init__(self, config: Config, now: Callable[[], datetime] = utcnow) -> None:
        self.config = config
        self.now = now
        self._db: Database | None = None

    def database(self, *, check: bool = True) -> Database:
        if self._db is None:
            self._db = Database(self.config.database_url)
            if check:
                check_schema(self._db)
        return self._db

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.database().session() as s:
            yield s

    def policy(self) -> AddressPolicy:
        """The address guard's policy from [fetch], for checking URLs before they are stored."""
        fetch = self.config.fetch
        return AddressPolicy.from_settings(fetch.allow_private_networks, fetch.allowed_networks)

    def sync_feeds(self) -> None:
        with self.session() as s:
            result = sync_config_feeds(s, self.config.feeds, now=self.now())
        for url in result.added:
            log.info("feed added from config: %s", url)
        for url in result.removed:
            log.info("feed no longer in config, kept but not polled: %s", url)

    def run_step(self, step: str, *, lock: bool = False, sync: bool = False, **options: Any) -> StepResult:
        """Run one pipeline step through the pipeline's step runner (recorded in `runs`, like `run` does)
        and print its one-line result; a failed step is a one-line error and exit status 1.

        ``lock``: under the run lock, taken before anything is written (``sync``: the config's feeds are
        written to the database first, inside the lock)."""
        db = self.database()
        with run_lock(db, self.config.data_dir) if lock else nullcontext():
            if sync:
                self.sync_feeds()
            result = run_step(db, self.config, self.now, step, announce=click.echo, **options)
        if result.outcome == RunOutcome.ERROR:
            raise click.ClickException(result.line)
        return result

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


def one_line(message: str) -> str:
    return " ".join(message.split())


class AggregatorGroup(click.Group):
    """Turns our own errors into a one-line message and exit status 1, without a traceback.

    Also the last net for what the machine can do to any command: a file operation refused (permissions, a
    full disk, a file where a folder should be) or a database that cannot be used, wherever no step turned
    it into one of our errors first. The traceback is kept for -vv (debug)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AggregatorError as e:
            raise click.ClickException(one_line(str(e))) from e
        except OSError as e:
            log.debug("file operation failed", exc_info=True)
            where = f"{e.filename}: " if e.filename else ""
            raise click.ClickException(one_line(f"{where}{e.strerror or e}")) from e
        except SQLAlchemyError as e:
            if not is_unusable(e):
                raise  # a programming error: keep the traceback
            log.debug("database failed", exc_info=True)
            raise click.ClickException(one_line(f"the database cannot be used: {problem(e)}")) from e


pass_app = click.make_pass_decorator(App)


def setup_logging(verbose: int, quiet: bool) -> None:
    """Our own INFO lines (one-line run summaries for cron) by default; libraries only from -v on."""
    root_level = logging.DEBUG if verbose >= 2 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(
        level=root_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose >= 2 else logging.INFO)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@click.group(cls=AggregatorGroup)
@click.version_option(__version__, prog_name="aggregator")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Configuration file (default: $AGGREGATOR_CONFIG, else ./config.toml, else built-in defaults).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors in the log.")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None, verbose: int, quiet: bool) -> None:
    """aggregator: related-story news aggregation from the feeds you choose."""
    setup_logging(verbose, quiet)
    try:
        config = load_config(find_config_path(config_path))
    except AggregatorError as e:
        raise click.ClickException(str(e)) from e
    app = App(config)
    ctx.obj = app
    ctx.call_on_close(app.close)


@cli.command()
@pass_app
def init(app: App) -> None:
    """Create the database, or upgrade it to this version, and sync the feeds from the config."""
    db = app.database(check=False)
    before, after = upgrade(db)
    if before is None:
        click.echo(f"Created database {db.describe()} (schema {after}).")
    elif before != after:
        click.echo(f"Upgraded database {db.describe()} from schema {before} to {after}.")
    else:
        click.echo(f"Database {db.describe()} is up to date (schema {after}).")
    with app.session() as s:
        result = sync_config_feeds(s, app.config.feeds, now=app.now())
        total = len(list_feeds(s))
    click.echo(
        f"Feeds: {total} stored; from config: {len(result.added)} added, {len(result.reactivated)} re-enabled, "
        f"{len(result.removed)} no longer listed (kept, not polled)."
    )


@cli.group()
def feeds() -> None:
    """Add, remove, list, import and export feeds."""


@feeds.command("add")
@click.argument("url")
@click.option("--title", default="", help="Display name (default: the feed's own title).")
@click.option(
    "--fulltext/--no-fulltext",
    default=None,
    help="Always / never fetch the full article page (default: the config's fulltext.default).",
)
@click.option(
    "--fulltext-auto",
    is_flag=True,
    help="Fetch the full article page when the entry is shorter than fulltext.min_words words.",
)
@pass_app
def feeds_add(app: App, url: str, title: str, fulltext: bool | None, fulltext_auto: bool) -> None:
    """Add the feed at URL."""
    if fulltext is not None and fulltext_auto:
        raise click.UsageError("give either --fulltext/--no-fulltext or --fulltext-auto, not both")
    mode = "auto" if fulltext_auto else None if fulltext is None else ("always" if fulltext else "never")
    with app.session() as s:
        feed = add_feed(s, url, now=app.now(), title=title, fulltext=mode, policy=app.policy())
        click.echo(f"Added {feed.url}")


@feeds.command("remove")
@click.argument("url")
@pass_app
def feeds_remove(app: App, url: str) -> None:
    """Remove the feed at URL and its articles."""
    with app.session() as s:
        removed = remove_feed(s, url, config=app.config, now=app.now())
    click.echo(
        f"Removed {url} and its {removed.articles} articles; {removed.stories_updated} stories recounted, "
        f"{removed.stories_retired} retired (no article left)."
    )
    if any(f.url == url for f in app.config.feeds):
        click.echo(
            "Note: it is listed in the config file and comes back on the next run unless removed there."
        )


@feeds.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def feeds_list(app: App, as_json: bool) -> None:
    """List stored feeds."""
    with app.session() as s:
        rows = [
            {
                "url": f.url,
                "title": f.title,
                "outlet": f.outlet,
                "origin": f.origin,
                "status": f.status,
                "fulltext": f.fulltext,
            }
            for f in list_feeds(s)
        ]
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['status']:8} {r['origin']:6} {r['url']}  {r['title']}")
    click.echo(f"{len(rows)} feeds")


@feeds.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_app
def feeds_import(app: App, file: Path) -> None:
    """Add the feeds of an OPML file (duplicates are skipped and reported)."""
    entries = parse_opml(file.read_bytes(), str(file))
    with app.session() as s:
        result = import_feeds(s, [(e.url, e.title) for e in entries], now=app.now(), policy=app.policy())
    click.echo(f"Imported {len(result.added)} feeds from {file}.")
    for url in result.already_stored:
        click.echo(f"  skipped (already stored): {url}")
    for url in result.repeated_in_file:
        click.echo(f"  skipped (repeated in the file): {url}")
    for url, reason in result.invalid:
        click.echo(f"  skipped (invalid): {url}: {reason}")


@feeds.command("export")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)."
)
@pass_app
def feeds_export(app: App, output: Path | None) -> None:
    """Write all feeds as OPML 2.0."""
    with app.session() as s:
        triples = [(f.url, f.title, f.site_url) for f in list_feeds(s) if f.status != FeedStatus.REMOVED]
    data = export_opml(triples, title="aggregator feeds", now=app.now())
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        output.write_bytes(data)
        click.echo(f"Wrote {len(triples)} feeds to {output}", err=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts and monitoring.")
@pass_app
def status(app: App, as_json: bool) -> None:
    """Counts and the health of every feed."""
    with app.session() as s:
        data = gather_status(s, app.now())
    if as_json:
        echo_json(data)
        return
    console = Console()
    if not console.is_terminal:  # piped or in a log: do not wrap cells to 80 columns
        console = Console(width=200)
    console.print(f"Database: {app.database().describe()}")
    console.print("  ".join(f"{k}: {v}" for k, v in data["counts"].items()))
    for r in data["runs"]:
        took = "" if r["duration_s"] is None else f" in {r['duration_s']:.1f}s"
        detail = f": {r['detail'][:100]}" if r["detail"] else ""
        console.print(f"Last {r['step']}: {r['outcome']} at {r['started_at'][:19]}{took}{detail}")
    table = Table("state", "feed", "articles", "errors", "last success", "next fetch", "last error")
    for f in data["feeds"]:
        table.add_row(
            f["state"],
            f["name"],
            str(f["articles"]),
            str(f["consecutive_errors"]),
            (f["last_success_at"] or "never")[:16],
            "not polled" if f["state"] in ("gone", "removed") else (f["next_fetch_at"] or "due")[:16],
            (f["last_error"] or "")[:80],
        )
    console.print(table)
    ex = data["extraction"]
    console.print(
        f"Full text: {ex['done']} done, {ex['pending']} pending ({ex['retrying']} after a failure), "
        f"{ex['failed']} failed, {ex['skipped']} skipped"
    )
    for e in ex["last_errors"]:
        console.print(
            f"  article {e['article_id']} ({e['status']}, {e['attempts']} attempts): {e['error'][:100]}"
        )
    nl = data["newsletter"]
    last = f"  last sent: {nl['last_sent']['sent_at'][:16]}" if nl["last_sent"] else ""
    console.print("Newsletter: " + "  ".join(f"{k}: {v}" for k, v in nl["counts"].items()) + last)
    for p in nl["pending"]:
        error = p["last_error"] or ""
        console.print(f"  digest {p['id']} {p['state']} after {p['attempts']} attempts: {error}")


@cli.command()
@click.option("--dry-run", "dry_run", is_flag=True, help="Print the digest; send nothing and record nothing.")
@click.option(
    "--to-dir",
    "to_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the digest as an .eml file into DIR instead of the configured delivery.",
)
@click.option("--send", "send", is_flag=True, help="Send by SMTP, whatever newsletter.delivery says.")
@pass_app
def newsletter(app: App, dry_run: bool, to_dir: Path | None, send: bool) -> None:
    """Build the email digest of what is new since the last one and deliver it (default: the configured
    delivery). Digests that failed before are delivered again first."""
    if sum([dry_run, to_dir is not None, send]) > 1:
        raise click.UsageError("use only one of --dry-run, --to-dir and --send")
    if dry_run:  # not a run of the step: nothing is recorded
        messages = preview_newsletter(app.database(), app.config, app.now())
        for message in messages:
            click.echo(message.decode("utf-8", errors="replace").replace("\r\n", "\n"))
        count = len(messages) or "no"
        click.echo(f"Dry run: {count} digest(s) would be delivered; nothing was recorded.", err=True)
        return
    mode: Literal["config", "smtp", "dir"] = "smtp" if send else "dir" if to_dir is not None else "config"
    result = app.run_step("newsletter", force=True, transport=transport_for(app.config, mode, to_dir))
    if result.counts.get("failed"):
        raise click.ClickException("the digest was not delivered; it will be retried on the next run")


@cli.command("config-reference")
def config_reference() -> None:
    """Print every setting with its type, default and meaning (Markdown)."""
    click.echo(reference_markdown(), nl=False)


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory (default: the config's site.output_dir). It becomes a link to the latest build.",
)
@pass_app
def render(app: App, out_dir: Path | None) -> None:
    """Write the static site: top stories, story, topic, archive and sources pages, and feeds."""
    app.run_step("render", out_dir=out_dir)


@cli.command()
@click.option("--all", "all_feeds", is_flag=True, help="Poll every active feed now, ignoring the schedule.")
@click.option("--feed", "feed_url", metavar="URL", help="Poll only this stored feed, whatever its schedule.")
@pass_app
def fetch(app: App, all_feeds: bool, feed_url: str | None) -> None:
    """Poll the due feeds and store new and changed articles.

    Exits 0 when the run completed, even if some feeds failed (the summary names them and why).
    """
    if not sys.stderr.isatty():
        app.run_step("fetch", lock=True, sync=True, all=all_feeds, feed_url=feed_url)
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[counts]}"),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task("fetching feeds", total=None, counts="")
        tally = {"new": 0, "failed": 0}

        def show(outcome: FeedOutcome, done: int, total: int) -> None:
            tally["new"] += outcome.new
            tally["failed"] += outcome.state in ("error", "gone")
            bar.update(
                task, completed=done, total=total, counts=f"{tally['new']} new, {tally['failed']} failed"
            )

        app.run_step("fetch", lock=True, sync=True, all=all_feeds, feed_url=feed_url, progress=show)


@cli.command()
@click.option("--article", "article_id", type=int, help="Extract this article now, whatever its feed's mode.")
@click.option("--limit", type=click.IntRange(min=1), help="Fetch at most this many pages in this run.")
@pass_app
def extract(app: App, article_id: int | None, limit: int | None) -> None:
    """Fetch article pages of summary-only entries and extract their full text."""
    app.run_step("extract", lock=True, limit=limit, article_id=article_id)


@cli.command()
@pass_app
def run(app: App) -> None:
    """One full cycle: fetch due feeds, extract full text, cluster, render the site, newsletter if due.

    Safe under cron: a second run while one is going exits at once. Exit 1 if a step failed.
    """
    db = app.database()
    with run_lock(db, app.config.data_dir):  # first: a second run exits before writing anything
        app.sync_feeds()
        result = run_cycle(db, app.config, app.now)  # each step logs its one-line summary
    if result.failed:
        raise click.ClickException(f"{len(result.failed)} step(s) failed: {result.line()}")


@cli.command()
@pass_app
def daemon(app: App) -> None:
    """Run the steps on the config's schedule until SIGTERM/SIGINT (one instance at a time)."""
    from .run.scheduler import run_daemon

    run_daemon(app.database(), app.config, app.now, prepare=app.sync_feeds)


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to put the demo's database, site and email (default: a new temporary directory).",
)
def demo(out_dir: Path | None) -> None:
    """The whole product offline: serve a bundled corpus on 127.0.0.1 and run a full cycle on it."""
    import tempfile

    from .demo.runner import run_demo

    out = out_dir or Path(tempfile.mkdtemp(prefix="aggregator-demo-"))
    if log.getEffectiveLevel() == logging.INFO:  # the step lines are printed below; keep only warnings
        log.setLevel(logging.WARNING)
    result = run_demo(out, utcnow)
    for step in result.cycle.steps:
        click.echo(f"{step.outcome:8} {step.line}")
    click.echo(f"\nDemo output in {result.out_dir}")
    click.echo(f"  site:       {result.site_index}  (open it in a browser, or run")
    click.echo(f"              python3 -m http.server -d {result.site_index.parent} 8000)")
    for email in result.emails:
        click.echo(f"  newsletter: {email}")
    click.echo(f"  look:       aggregator --config {result.out_dir / 'config.toml'} status")
    if result.cycle.failed:
        raise click.ClickException(f"demo cycle had failures: {result.cycle.line()}")


@cli.command("cluster")
@click.option("--batch-size", default=500, show_default=True, help="Articles per transaction.")
@pass_app
def cluster_command(app: App, batch_size: int) -> None:
    """Assign every article not yet clustered to a story (idempotent; resumes after a crash)."""
    # One run at a time: story ids come from the database's highest id, so two writers would collide.
    app.run_step("cluster", lock=True, batch_size=batch_size)


@cli.group("eval")
def eval_group() -> None:
    """Measure the story engine on labelled evaluation sets (formats: ../shared/data/README.md)."""


@eval_group.command("stories")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_app
def eval_stories(app: App, file: Path, as_json: bool) -> None:
    """Cluster the labelled articles of FILE in arrival order and score the stories against the labels."""
    from .evaluation.stories import evaluate_stories

    report = evaluate_stories(file, app.config.stories)
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(f"{file.name}: {report.articles} articles")
    click.echo(f"B-cubed   P {report.bcubed_p:.4f}  R {report.bcubed_r:.4f}  F1 {report.bcubed_f1:.4f}")
    click.echo(f"pairwise  P {report.pairwise_p:.4f}  R {report.pairwise_r:.4f}  F1 {report.pairwise_f1:.4f}")
    click.echo(f"stories   {report.clusters} (gold {report.gold_clusters}); copies {report.duplicates}")
    click.echo(f"speed     {report.ms_per_article:.3f} ms per article (dedupe + clustering)")
    if report.copies_p is not None and report.copies_r is not None:
        click.echo(f"copies    P {report.copies_p:.4f}  R {report.copies_r:.4f}  (against copy_of)")
    if report.related_precision is not None:
        for name, p, r, shown in (
            ("engine's", report.related_precision, report.related_recall, report.related_shown),
            ("gold", report.gold_related_precision, report.gold_related_recall, report.gold_related_shown),
        ):
            click.echo(
                f"related   P {p:.4f}  R {r:.4f}  shown {shown:.2f} per story  ({name} stories, against storyline)"
            )


@eval_group.command("related")
@click.argument("articles", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("packages", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--use-categories", is_flag=True, help="Give the engine the gold tags as feed categories.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_related(articles: Path, packages: Path, use_categories: bool, as_json: bool) -> None:
    """Related-story lists against editors' lists: recall@10, nDCG@10, MRR, precision@10."""
    result = evaluate_related(articles, packages, use_categories=use_categories)
    s = result.scores
    if as_json:
        extra = {
            "articles": result.articles,
            "use_categories": use_categories,
            "seconds": round(result.seconds, 1),
        }
        echo_json({**s, **extra})
        return
    mode = "with gold tags as feed categories" if use_categories else "without categories"
    click.echo(f"related ({mode}): {result.anchors} anchors of {result.articles}, {result.seconds:.0f} s")
    click.echo(
        f"recall@10 {s['recall_at_10']:.4f}  nDCG@10 {s['ndcg_at_10']:.4f}  MRR {s['mrr']:.4f}  "
        f"precision@10 {s['precision_at_10']:.4f}"
    )
    click.echo(
        f"displayed P {s['displayed_precision']:.4f}  R {s['displayed_recall']:.4f}  "
        f"shown {s['displayed_shown']:.2f} per anchor"
    )


@eval_group.command("topics")
@click.argument("articles", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (top level: without section-level tags).")
def eval_topics(articles: Path, as_json: bool) -> None:
    """Inferred topics against editors' tags: micro precision/recall/F1 and precision@5."""
    result = evaluate_topics(articles)
    if as_json:
        extra = {"training_articles": result.training, "seconds": round(result.seconds, 1)}
        echo_json({**result.without_sections, "with_sections": result.with_sections, **extra})
        return
    click.echo(f"topics: learnt from {result.training} categorised articles, {result.seconds:.1f} s")
    rows = (("without section tags", result.without_sections), ("with section tags", result.with_sections))
    for name, s in rows:
        click.echo(
            f"{name:21} micro P {s['micro_p']:.4f}  R {s['micro_r']:.4f}  F1 {s['micro_f1']:.4f}  "
            f"precision@5 {s['precision_at_5']:.4f}  ({s['articles']} articles)"
        )


@eval_group.command("chips")
@click.argument(
    "snapshots", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def eval_chips(snapshots: tuple[Path, ...], as_json: bool) -> None:
    """Share of displayed topic chips that are junk, on polls of real feeds (one folder of feed files each)."""
    report = evaluate_chips(snapshots)
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(
        f"chips: {report.snapshots} polls, {report.articles} articles, {report.stories} stories "
        f"({report.stories_with_chips} with chips), {report.chips} chips"
    )
    click.echo(
        f"junk chips {report.junk} ({report.junk_share:.4f} of displayed); raw categories that are not topics: "
        f"{report.as_dict()['raw_junk_share']}"
    )
    for example in report.junk_examples[:20]:
        click.echo(f"  junk: {example}")


def main() -> None:
    cli(prog_name="aggregator")
