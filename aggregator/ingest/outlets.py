"""Which outlet a feed belongs to: a brand, not a host. Pure: no I/O.

An outlet is what a reader calls the publisher: CNN's site feed ("CNN.com - RSS Channel - App International
Edition", on cnn.com) and its YouTube channel ("CNN") are one outlet; seven YouTube channels are seven.
Outlets drive the coverage counts (a story covered by two feeds of one outlet has one outlet), ranking and
"also published by". :func:`outlet_of` derives a feed's :class:`Outlet` from what the feed says of itself:

    title "GMA News Online / News"   -> segments "GMA News Online", "News"
          -> drop generic segments (only words like news, latest, articles, top stories, RSS, home)
          -> the first segment that matches the site's host (any of its labels, loosely: "NYT" ~ nytimes,
             "GMA News" ~ gmanetwork, "Mail Online" ~ dailymail) is the brand
    no segment matches the host -> the first one of two words or more ("Pioneer Press" on twincities.com);
          a single word is a section, not a brand ("California" on latimes.com): the host is ("latimes.com")
    no usable host (none, an IP address, or a platform: youtube.com, feedburner, medium, substack, ...)
          -> the first non-generic segment is the brand (a YouTube channel's title)
    nothing at all -> the feed itself (key ``feed:<url>``, named by its site's or its own host)

The host is the feed's site URL, else the commonest host of its entries' links. A name given in the
configuration (``feeds[].outlet``) overrides all of this. The key folds case, spacing, punctuation, a domain
suffix, a leading "The", parentheticals and trailing words such as "Online" or "TV", so that "FOX News" and
"Fox News", "CNN.com" and "CNN", "GMA News Online" and "GMA News" meet; the name is shown as the brand is
written.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..sanitize import html_to_text


@dataclass(frozen=True)
class Outlet:
    key: str  # equal keys are one outlet
    name: str  # display name


# Hosts that carry many brands: their name says nothing about whose feed it is.
PLATFORM_DOMAINS = frozenset(
    {
        "youtube.com", "youtu.be", "feedburner.com", "feedproxy.google.com", "news.google.com", "medium.com",
        "substack.com", "blogspot.com", "wordpress.com", "tumblr.com", "ghost.io", "beehiiv.com",
        "buttondown.email", "github.io", "podbean.com", "libsyn.com", "megaphone.fm", "anchor.fm",
        "soundcloud.com", "spotify.com", "podcasts.apple.com", "vimeo.com", "dailymotion.com", "twitter.com",
        "x.com", "facebook.com", "instagram.com", "reddit.com", "rss.app", "bit.ly", "t.co", "ow.ly",
        "buff.ly", "dlvr.it", "trib.al", "tinyurl.com", "flipboard.com", "newsbreak.com", "msn.com",
    }
)  # fmt: skip
# Words of a title segment that never make a brand on their own ("Breaking News", "Top Stories", "Home").
GENERIC_WORDS = frozenset(
    [
        "a",
        "all",
        "and",
        "app",
        "article",
        "articles",
        "breaking",
        "channel",
        "daily",
        "edition",
        "en",
        "english",
        "feed",
        "feeds",
        "first",
        "front",
        "headline",
        "headlines",
        "home",
        "homepage",
        "in",
        "international",
        "latest",
        "live",
        "local",
        "main",
        "more",
        "most",
        "national",
        "new",
        "news",
        "newest",
        "of",
        "on",
        "online",
        "page",
        "popular",
        "recent",
        "rss",
        "section",
        "sections",
        "stories",
        "story",
        "the",
        "to",
        "today",
        "top",
        "trending",
        "u.s",
        "uk",
        "updates",
        "us",
        "video",
        "videos",
        "world",
        "xml",
    ]
)
# Trailing words a key drops ("GMA News Online" meets "GMA News", "WDAM-TV" meets "WDAM").
KEY_TAIL = frozenset({"online", "tv", "rss", "feed", "feeds", "headlines", "channel", "official", "videos"})
# Second-level labels under a country code: the brand is one label further left (dailymail.co.uk).
SECOND_LEVEL = frozenset(
    {
        "co",
        "com",
        "net",
        "org",
        "gov",
        "ac",
        "edu",
        "ne",
        "or",
        "go",
        "mil",
        "nic",
        "sch",
        "ltd",
        "plc",
        "info",
    }
)
HOST_PREFIXES = frozenset({"www", "m", "mobile", "amp", "rss", "feeds", "feed", "edition", "news"})
_SEPARATOR = re.compile(r"\s+[-–—/:]\s+|\s*[|>»·•]\s*|:\s+")
_WORD = re.compile(r"[^\W_]+(?:[.'’][^\W_]+)*", re.UNICODE)
_DOMAIN = re.compile(
    r"^(?:[a-z0-9-]+\.)+(?:[a-z]{2}|com|net|org|info|biz|news|tv|io|online|media)$", re.IGNORECASE
)
_PARENTHETICAL = re.compile(r"\\?\([^()]*\\?\)")
MIN_SHARED = 4  # characters a brand and a host must share in a row to match without being a subsequence


def outlet_of(
    title: str,
    site_url: str | None = None,
    entry_urls: Iterable[str | None] = (),
    *,
    override: str | None = None,
    feed_url: str | None = None,
) -> Outlet:
    """The outlet of a feed with this title, site URL and entry links (see the module docstring)."""
    if override and override.strip():
        name = _collapse(html_to_text(override))
        return Outlet(outlet_key(name), name)
    host = _brand_host(site_url) or _commonest_host(entry_urls)
    candidates = [s for s in _segments(title) if not _is_generic(s)]
    if host is not None:
        labels = _host_labels(host)
        for segment in candidates:
            if any(_matches(outlet_key(segment), label) for label in labels):
                return _from_segment(segment)
        for segment in candidates:
            if len(_words(segment)) >= 2:
                return _from_segment(segment)
        return Outlet(domain_label(host), registrable_domain(host))
    if candidates:
        return _from_segment(candidates[0])
    fallback = feed_url or ""
    name = _collapse(html_to_text(title)) or _any_host(site_url) or _any_host(feed_url) or fallback
    return Outlet(f"feed:{fallback}" if fallback else "", name)


def outlet_key(name: str) -> str:
    """The identity of a brand name: "The Harbour Courier" -> "harbourcourier", "CNN.com" -> "cnn"."""
    words = [p for w in _words(name) for p in re.split(r"[.'’]", w) if p]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    while len(words) > 1 and words[-1] in KEY_TAIL:
        words.pop()
    return "".join(words)


def registrable_domain(host: str) -> str:
    """The domain a brand registers: "edition.cnn.com" -> "cnn.com", "www.dailymail.co.uk" -> "dailymail.co.uk"."""
    labels = host.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def domain_label(host: str) -> str:
    """The brand label of a host: "www.latimes.com" -> "latimes", "www.stuff.co.nz" -> "stuff"."""
    return registrable_domain(host).split(".")[0]


def is_platform(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in PLATFORM_DOMAINS)


# ---- helpers ----------------------------------------------------------------------------------------------


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _host(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host or "." not in host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host.lower().rstrip(".")
    return None  # an IP address names no brand


def _any_host(url: str | None) -> str:
    """The host of a URL, an IP address included (a name to show, never an identity)."""
    try:
        return (urlsplit(url.strip()).hostname or "") if url else ""
    except ValueError:
        return ""


def _brand_host(url: str | None) -> str | None:
    host = _host(url)
    return None if host is None or is_platform(host) else host


def _commonest_host(urls: Iterable[str | None]) -> str | None:
    counts = Counter(h for h in (_brand_host(u) for u in urls) if h is not None)
    if not counts:
        return None
    # Most entries; ties to the first seen (Counter keeps insertion order).
    return max(counts, key=lambda h: counts[h])


def _host_labels(host: str) -> list[str]:
    """The labels of a host that may carry a brand: the registrable one first, then subdomains."""
    registrable = registrable_domain(host)
    sub = host[: -len(registrable)].rstrip(".").split(".") if host != registrable else []
    return [registrable.split(".")[0], *(s for s in reversed(sub) if s and s not in HOST_PREFIXES)]


def _segments(title: str) -> list[str]:
    """A title's parts between separators (" - ", " | ", " / ", " > ", ": "), as plain text."""
    parts = [_collapse(p) for p in _SEPARATOR.split(_collapse(html_to_text(title)))]
    return [p for p in parts if p]


def _words(text: str) -> list[str]:
    """Lower-case words of a name, its domain suffix and parentheticals ("(blog)") left out."""
    plain = _PARENTHETICAL.sub(" ", text).replace("\\", " ")
    return [w.lower().strip(".") for w in _WORD.findall(_fold(_strip_domain(_collapse(plain))))]


def _is_generic(segment: str) -> bool:
    return all(w in GENERIC_WORDS or (w.isdigit() and len(w) > 3) for w in _words(segment))


def _strip_domain(text: str) -> str:
    """A segment written as a domain ("CNN.com", "Stuff.co.nz") stands for its brand label ("CNN")."""
    text = text.strip()
    if " " in text or not _DOMAIN.match(text):
        return text
    label = domain_label(text)
    start = text.lower().find(label)
    return text[start : start + len(label)] if start >= 0 else label


def _from_segment(segment: str) -> Outlet:
    name = _collapse(_strip_domain(segment))
    return Outlet(outlet_key(name), name)


def _matches(key: str, label: str) -> bool:
    """Whether a brand key and a host label name the same outlet, loosely: one is a subsequence of the other
    ("nyt" in "nytimes", "nzherald" in "newzealandherald") or they share ``MIN_SHARED`` characters in a row
    ("gmanews" and "gmanetwork", "mail" and "dailymail")."""
    label = re.sub(r"[^a-z0-9]", "", label.lower())
    if not key or not label:
        return False
    if _is_subsequence(key, label) or _is_subsequence(label, key):
        return min(len(key), len(label)) >= 2
    return _longest_common_run(key, label) >= MIN_SHARED


def _is_subsequence(short: str, long: str) -> bool:
    rest = iter(long)
    return all(c in rest for c in short)


def _longest_common_run(a: str, b: str) -> int:
    best = 0
    previous = [0] * (len(b) + 1)
    for ca in a:
        current = [0] * (len(b) + 1)
        for j, cb in enumerate(b, 1):
            if ca == cb:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best
