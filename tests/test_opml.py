from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aggregator.errors import OPMLError
from aggregator.ingest.opml import export_opml, parse_opml

from .conftest import NOW

FIXTURE = Path(__file__).parent / "fixtures" / "subscriptions.opml"


def test_parse_nested_categories_and_attribute_variants() -> None:
    feeds = parse_opml(FIXTURE.read_bytes())
    by_url = {f.url: f for f in feeds}
    assert [f.url for f in feeds] == [
        "https://news.example.org/world.xml",
        "https://wire.example.net/rss",
        "https://tech.example.com/atom.xml",
        "https://news.example.org/world.xml",
        "https://lab.example.edu/feed",
        "ftp://files.example.org/feed.xml",
        "http://blog.example.com/index.xml",
    ]
    assert by_url["https://wire.example.net/rss"].categories == ("News", "World")
    assert by_url["https://wire.example.net/rss"].title == "Wire Service"
    assert by_url["https://tech.example.com/atom.xml"].categories == ("News",)
    assert by_url["http://blog.example.com/index.xml"].categories == ()
    assert feeds[0].site_url == "https://news.example.org/world"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<opml><body><outline", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "expected <opml>"),
        (b"<opml version='2.0'><head/></opml>", "no <body>"),
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>', "entity declarations"),
    ],
)
def test_bad_opml_is_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(OPMLError, match=message):
        parse_opml(data, "subs.opml")


def test_export_then_parse_round_trips() -> None:
    triples = [
        ("https://a.example/rss", "A & B <news>", "https://a.example/"),
        ("https://b.example/atom.xml", "", None),
    ]
    data = export_opml(triples, title="mine", now=NOW)
    assert data.startswith(b"<?xml")
    assert b'version="2.0"' in data
    parsed = parse_opml(data)
    assert [(f.url, f.title, f.site_url) for f in parsed] == [
        ("https://a.example/rss", "A & B <news>", "https://a.example/"),
        ("https://b.example/atom.xml", "https://b.example/atom.xml", None),
    ]


def test_cli_import_reports_duplicates_and_export_round_trips(
    write_config: Callable[..., Path], run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    config = write_config()
    assert run_cli(config, "init").exit_code == 0
    assert run_cli(config, "feeds", "add", "https://tech.example.com/atom.xml").exit_code == 0

    result = run_cli(config, "feeds", "import", str(FIXTURE))
    assert result.exit_code == 0, result.output
    assert "Imported 4 feeds" in result.output
    assert "skipped (already stored): https://tech.example.com/atom.xml" in result.output
    assert "skipped (repeated in the file): https://news.example.org/world.xml" in result.output
    assert "skipped (invalid): ftp://files.example.org/feed.xml" in result.output

    again = run_cli(config, "feeds", "import", str(FIXTURE))
    assert "Imported 0 feeds" in again.output

    out = tmp_path / "out.opml"
    assert run_cli(config, "feeds", "export", "-o", str(out)).exit_code == 0
    exported = {f.url for f in parse_opml(out.read_bytes())}
    assert exported == {
        "https://news.example.org/world.xml",
        "https://wire.example.net/rss",
        "https://tech.example.com/atom.xml",
        "https://lab.example.edu/feed",
        "http://blog.example.com/index.xml",
    }

    # Import the export into a fresh database: the same feeds, with their titles.
    other = write_config(name="other.toml", data={"storage": {"data_dir": str(tmp_path / "other")}})
    assert run_cli(other, "init").exit_code == 0
    assert "Imported 5 feeds" in run_cli(other, "feeds", "import", str(out)).output
    listed = run_cli(other, "feeds", "list", "--json").output
    assert "Wire Service" in listed
    stdout_export = run_cli(other, "feeds", "export").output
    assert {f.url for f in parse_opml(stdout_export.encode())} == exported
