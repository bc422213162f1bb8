"""What the machine or a file can do to a command ends in one line and a non-zero exit, never a traceback.

In-process commands run with ``catch_exceptions=False`` (a traceback fails the test); the full-disk case runs
the real entry point in a subprocess whose file-size limit makes writes fail with EFBIG.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aggregator.cli import cli

from .conftest import dump_toml
from .httpserver import FeedServer
from .test_cycle import GOOD_FEEDS, cycle_config, serve_demo


def one_line_error(result: Result) -> str:
    """The command failed with exactly one line of output, an error."""
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def config_at(tmp_path: Path, storage: dict[str, str], name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(dump_toml({"storage": storage}), encoding="utf-8")
    return path


# --- the data folder and the lock ---------------------------------------------------------------------------


def test_data_dir_that_is_a_file(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    (tmp_path / "state").write_text("not a folder")
    for data_dir, expected in (("state", "it is a file, not a folder"), ("state/sub", "Not a directory")):
        config = config_at(tmp_path, {"data_dir": str(tmp_path / data_dir)})
        for command in (["init"], ["status"], ["feeds", "list"]):
            line = one_line_error(run_cli(config, *command))
            assert expected in line and "storage.data_dir" in line


def test_lock_path_that_is_a_folder(
    write_config: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    config = write_config()
    assert run_cli(config, "init").exit_code == 0
    lock = config.parent / "data" / "aggregator.db.lock"
    lock.mkdir()
    for command in (["fetch"], ["run"], ["cluster"]):
        line = one_line_error(run_cli(config, *command))
        assert line == f"Error: cannot open the run lock {lock}: it is a folder"


def test_site_folder_under_a_file_is_a_render_error(
    write_config: Callable[..., Path], run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    (tmp_path / "www").write_text("a file")
    config = write_config({"site": {"output_dir": str(tmp_path / "www" / "site")}})
    assert run_cli(config, "init").exit_code == 0
    line = one_line_error(run_cli(config, "render"))
    assert line.startswith("Error: render: failed: cannot write the site to ")
    assert line.endswith(f"{tmp_path / 'www'}: File exists")


# --- the database -------------------------------------------------------------------------------------------


def test_init_on_a_file_that_is_not_a_database(tmp_path: Path, run_cli: Callable[..., Result]) -> None:
    config = config_at(tmp_path, {"data_dir": str(tmp_path / "data")})
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "aggregator.db").write_bytes(b"just some bytes, " * 1000)
    for command in ("init", "status"):
        line = one_line_error(run_cli(config, command))
        assert "file is not a database" in line and "(Background" not in line


def test_init_on_a_database_of_a_newer_version_leaves_it_alone(
    write_config: Callable[..., Path], run_cli: Callable[..., Result]
) -> None:
    config = write_config()
    assert run_cli(config, "init").exit_code == 0
    path = config.parent / "data" / "aggregator.db"
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    line = one_line_error(run_cli(config, "init"))
    assert "at revision 0099_from_the_future" in line and "written by a newer aggregator" in line
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("0099_from_the_future",)
        ]


def test_read_only_database(
    write_config: Callable[..., Path], run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    writable = write_config()
    assert run_cli(writable, "init").exit_code == 0
    path = tmp_path / "data" / "aggregator.db"
    # Opened read-only by SQLite itself, so the test holds for root too (who ignores file permissions).
    read_only = config_at(
        tmp_path,
        {"data_dir": str(tmp_path / "data"), "database_url": f"sqlite:///file:{path}?mode=ro&uri=true"},
        "ro.toml",
    )
    assert run_cli(read_only, "status").exit_code == 0  # reading is fine
    for command in (["feeds", "add", "https://a.example/rss"], ["fetch"], ["cluster"], ["render"]):
        line = one_line_error(run_cli(read_only, *command))
        assert "attempt to write a readonly database: the database is read-only here" in line, line
    read_only.write_text(read_only.read_text() + '[[feeds]]\nurl = "https://b.example/rss"\n')
    result = run_cli(read_only, "init")  # the schema is current; syncing the config's feeds writes
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1].startswith("Error: the database ")
    assert "the database is read-only here" in result.output


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database holding the demo corpus, fetched from 127.0.0.1 and clustered (copy it before use)."""
    base = tmp_path_factory.mktemp("populated")
    with FeedServer() as server:
        feeds = serve_demo(server)
        config = base / "config.toml"
        config.write_text(
            dump_toml(
                {
                    "storage": {"data_dir": str(base / "data")},
                    "fetch": {"allowed_networks": ["127.0.0.1/32"], "concurrency": 1, "jitter_seconds": 0},
                    "fulltext": {"default": False},
                    "feeds": feeds,
                }
            )
        )
        runner = CliRunner()
        for command in (["init"], ["fetch", "--all"], ["cluster"]):
            assert (
                runner.invoke(cli, ["--config", str(config), *command], catch_exceptions=False).exit_code == 0
            )
    db = base / "data" / "aggregator.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file
    yield db


def test_every_command_on_a_database_with_damaged_pages(
    populated: Path, write_config: Callable[..., Path], run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    config = write_config(
        {"fulltext": {"default": False}, "newsletter": {"recipients": ["r@aggregator.test"]}}
    )
    db = tmp_path / "data" / "aggregator.db"
    db.parent.mkdir()
    shutil.copy(populated, db)
    data = bytearray(db.read_bytes())
    page = 4096
    middle = len(data) // page // 2 * page
    data[middle : middle + 8 * page] = b"\xba\xad\xf0\x0d" * (2 * page)  # eight pages of garbage
    db.write_bytes(bytes(data))
    damaged = 0
    commands = [
        ["status"], ["status", "--json"], ["feeds", "list"], ["feeds", "export"], ["init"], ["fetch"],
        ["extract"], ["cluster"], ["render"], ["newsletter", "--dry-run"], ["newsletter"], ["run"],
        ["feeds", "remove", GOOD_FEEDS[0].title],
    ]  # fmt: skip
    for command in commands:
        result = run_cli(config, *command)  # a traceback fails the test here
        if result.exit_code == 0:
            continue  # this command read none of the damaged pages
        line = result.output.strip().splitlines()[-1]
        assert line.startswith("Error: "), (command, result.output)
        damaged += "the file is damaged" in line
    assert (
        damaged >= 5
    )  # status, init, cluster, render and run at least read the whole schema and the stories


# --- OPML ---------------------------------------------------------------------------------------------------


def test_opml_nested_ten_thousand_deep_imports(
    write_config: Callable[..., Path], run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    config = write_config()
    assert run_cli(config, "init").exit_code == 0
    depth = 10_000
    opml = tmp_path / "deep.opml"
    opml.write_text(
        "<opml version='2.0'><body>"
        + "<outline text='folder'>" * depth
        + "<outline xmlUrl='https://deep.example/rss' text='Deep'/>"
        + "</outline>" * depth
        + "<outline xmlUrl='https://shallow.example/rss' text='Shallow'/></body></opml>"
    )
    result = run_cli(config, "feeds", "import", str(opml))
    assert result.exit_code == 0 and "Imported 2 feeds" in result.output, result.output
    assert "deep.example" in run_cli(config, "feeds", "list").output


def test_opml_with_bad_urls_imports_the_rest_and_reports_them(
    write_config: Callable[..., Path], run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    config = write_config()
    assert run_cli(config, "init").exit_code == 0
    too_long = "https://long.example/" + "x" * 3000
    outlines = [
        ("https://first.example/rss", "First"),
        (too_long, "Too long"),
        ("https://", "No host"),
        ("ftp://files.example/feed", "Not HTTP"),
        ("https://titled.example/rss", "T" * 5000),
        ("https://last.example/rss", "Last"),
    ]
    body = "".join(f"<outline xmlUrl='{url}' text='{title}'/>" for url, title in outlines)
    opml = tmp_path / "subs.opml"
    opml.write_text(f"<opml version='2.0'><body>{body}</body></opml>")
    result = run_cli(config, "feeds", "import", str(opml))
    assert result.exit_code == 0, result.output
    assert "Imported 3 feeds" in result.output
    assert f"skipped (invalid): {too_long}: not a feed URL: longer than 2048 characters" in result.output
    assert result.output.count("skipped (invalid)") == 3
    with sqlite3.connect(tmp_path / "data" / "aggregator.db") as conn:
        stored = dict(conn.execute("SELECT url, length(title) FROM feeds").fetchall())
    assert set(stored) == {
        "https://first.example/rss",
        "https://titled.example/rss",
        "https://last.example/rss",
    }
    assert stored["https://titled.example/rss"] == 500  # the column's size


# --- a full disk --------------------------------------------------------------------------------------------

LIMITED = textwrap.dedent(
    """
    import resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    from aggregator.cli import main
    sys.argv = ["aggregator", *sys.argv[2:]]
    main()
    """
)


@pytest.mark.parametrize("headroom", [0, 64 * 1024, 256 * 1024])
def test_a_full_disk_is_one_error_per_step(
    headroom: int, write_config: Callable[..., Path], feed_server: FeedServer, tmp_path: Path
) -> None:
    config = cycle_config(write_config, serve_demo(feed_server))
    assert (
        subprocess.run([sys.executable, "-m", "aggregator", "--config", str(config), "init"]).returncode == 0
    )
    db = tmp_path / "data" / "aggregator.db"
    limit = db.stat().st_size + headroom  # files may not grow past this: the database fills the "disk"
    run = subprocess.run(
        [sys.executable, "-c", LIMITED, str(limit), "--config", str(config), "run"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    errors = [line for line in run.stderr.splitlines() if " ERROR " in line or line.startswith("Error: ")]
    assert 1 <= len(errors) <= 6, run.stderr  # at most one per step, and the summary
    assert any("disk" in line or "File too large" in line for line in errors), run.stderr
