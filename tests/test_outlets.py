"""Outlets: a brand, not a host. The pure rules on invented feeds, then the real feed days in ../shared/data."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from aggregator.config import FeedConfig
from aggregator.db import Database
from aggregator.ingest.feeds import add_feed, list_feeds, sync_config_feeds
from aggregator.ingest.outlets import Outlet, outlet_key, outlet_of

from .conftest import NOW

YT = "https://www.youtube.com/watch?v=x"


def test_a_site_feed_and_the_channel_of_one_brand_are_one_outlet() -> None:
    site = outlet_of(
        "Courier.com - RSS Channel - App International Edition", None, ["https://edition.courier.com/a"]
    )
    channel = outlet_of("Courier", "https://www.youtube.com/channel/UC1", [YT, YT])
    assert site == channel == Outlet("courier", "Courier")
    assert outlet_of("HARBOUR News", "https://www.harbournews.example/") == Outlet(
        "harbournews", "HARBOUR News"
    )
    assert outlet_of("Harbour News", None, [YT]).key == "harbournews"


def test_a_generic_first_segment_is_not_the_brand() -> None:
    for title in (
        "Articles | Evening Lamp",
        "Breaking News | Evening Lamp",
        "Latest News and News Headlines | Evening Lamp",
    ):
        assert outlet_of(title, "https://www.eveninglamp.co.uk/") == Outlet("eveninglamp", "Evening Lamp")


def test_the_brand_may_match_its_host_loosely() -> None:
    # "Online" goes from the key, so the site's feed meets the channel; the name keeps it.
    site = outlet_of("Wend Radio Online / News", "https://www.wendnetwork.example/")
    assert site == Outlet("wendradio", "Wend Radio Online")
    assert outlet_of("Wend Radio", None, [YT]).key == site.key
    assert outlet_of("NVT > U.S. News", "https://www.nvtimes.example/").name == "NVT"  # initials
    assert outlet_of("Mail Lamp", "https://www.dailymaillamp.example/").key == "maillamp"


def test_a_section_is_not_a_brand_the_host_is() -> None:
    assert outlet_of("California", "https://www.valleytimes.com/") == Outlet("valleytimes", "valleytimes.com")
    # a brand of several words on another host is still the brand
    assert outlet_of("Pioneer Gazette", "https://www.twinvalleys.example/").name == "Pioneer Gazette"


def test_platforms_never_name_a_brand_the_channel_title_does() -> None:
    channels = ["Quay News", "Al Wend English", "Natural Geographic", "1 NEWS"]
    outlets = [outlet_of(title, None, [YT]) for title in channels]
    assert len({o.key for o in outlets}) == 4 and "youtube" not in {o.key for o in outlets}
    assert outlet_of("1News", None, [YT]).key == outlets[3].key  # a channel that dropped a space
    assert outlet_of("Notes", "https://someone.substack.com/").key == "notes"
    assert outlet_of("", None, [YT], feed_url="https://feeds.example/x") == Outlet(
        "feed:https://feeds.example/x", "feeds.example"
    )


def test_the_commonest_entry_host_stands_in_for_a_missing_site() -> None:
    links = ["https://www.valleytimes.com/a", "https://www.valleytimes.com/b", "https://other.example/c"]
    assert outlet_of("California", None, links).key == "valleytimes"


def test_keys_fold_what_does_not_tell_brands_apart() -> None:
    assert outlet_key("The Harbour Courier") == outlet_key("Harbour courier") == "harbourcourier"
    assert outlet_key("Courier.com") == outlet_key("COURIER") == "courier"
    assert outlet_key("Plain Lamp (blog)") == outlet_key("Plain Lamp") == "plainlamp"
    assert outlet_key("WDAM-TV") == "wdam"


def test_the_configured_outlet_overrides_the_guess() -> None:
    assert outlet_of("Harbour Radio", "https://radio.example/", override="Harbour Courier") == Outlet(
        "harbourcourier", "Harbour Courier"
    )


def test_the_outlet_is_stored_on_the_feed_and_the_config_overrides_it(db: Database) -> None:
    a = FeedConfig(url="https://a.example/rss", title="Harbour Courier")
    b = FeedConfig(url="https://b.example/rss", title="Harbour Radio", outlet="Harbour Courier")
    with db.session() as s:
        sync_config_feeds(s, [a, b], now=NOW)
        add_feed(s, "https://c.example/rss", now=NOW, title="Quay News")
    with db.session() as s:
        outlets = {f.url: (f.outlet_key, f.outlet, f.outlet_override) for f in list_feeds(s)}
    assert outlets == {
        a.url: ("harbourcourier", "Harbour Courier", None),
        b.url: ("harbourcourier", "Harbour Courier", "Harbour Courier"),
        "https://c.example/rss": ("quaynews", "Quay News", None),
    }
    with db.session() as s:  # the override dropped from the config: the feed's own outlet again
        sync_config_feeds(s, [a, FeedConfig(url=b.url, title=b.title)], now=NOW)
    with db.session() as s:
        assert {f.url: f.outlet_key for f in list_feeds(s)}[b.url] == "harbourradio"


def _feeds_of_real_days(folder: Path) -> dict[str, tuple[str, list[str | None]]]:
    """feed file -> (its title, its entries' links) over every labelled day."""
    feeds: dict[str, tuple[str, list[str | None]]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "feed" in row:
                _, links = feeds.setdefault(row["feed"], (row["source"], []))
                links.append(row.get("url"))
    return feeds


def test_outlets_of_the_real_feed_days(shared_data: Path) -> None:
    feeds = _feeds_of_real_days(shared_data / "eval" / "real")
    if not feeds:
        pytest.skip("no labelled real feed days")
    outlet = {name: outlet_of(title, None, links) for name, (title, links) in feeds.items()}
    by_key: dict[str, set[str]] = defaultdict(set)
    for name, o in outlet.items():
        by_key[o.key].add(name)
    # One brand, two feeds: the site's and the YouTube channel's.
    for site, channel in (
        ("cnn.xml", "cnntv.xml"),
        ("fox.xml", "foxnewstv.xml"),
        ("gmanews.xml", "gmanewstv.xml"),
    ):
        assert outlet[site].key == outlet[channel].key, (outlet[site], outlet[channel])
    assert outlet["cnn.xml"].name == "CNN"
    assert outlet["dailymail.xml"].name == "Mail Online"
    assert outlet["latimes.xml"] == Outlet("latimes", "latimes.com")  # its title is a section
    # Every other feed is its own outlet, YouTube channels included; no outlet is a platform.
    assert len(by_key) == len(feeds) - 3
    assert not any("youtube" in key for key in by_key)
    # Each entry on its own (as the evaluation loader sees them) gets its feed's outlet.
    for name, (title, links) in feeds.items():
        keys = {outlet_of(title, None, [link]).key for link in links}
        others = keys - {outlet[name].key}
        assert len(others) <= 1, (name, keys)  # at most a stray link to a sister site
