"""Untrusted feed and page HTML made safe for our pages and emails (nh3, an allowlist sanitiser).

Feeds are parsed without feedparser's sanitiser (it is the largest parsing cost); the stored HTML is
raw and everything that shows it goes through :func:`clean_html` or :func:`html_to_text` here.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "del", "dl", "dt", "em", "figcaption",
    "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q",
    "s", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "time",
    "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "time": {"datetime"},
    "blockquote": {"cite"},
}
URL_SCHEMES = {"http", "https", "mailto"}
# Tags removed together with their content (the rest are unwrapped, keeping their text).
DROP_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "noscript",
    "template",
    "svg",
    "math",
    "form",
}

_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|blockquote|tr|pre)\s*>|<br\s*/?>", re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r"\n\s*\n+")


def clean_html(fragment: str | None) -> str:
    """Safe HTML: allowlisted tags and attributes, http(s)/mailto links only, no scripts, styles or forms."""
    if not fragment:
        return ""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        clean_content_tags=DROP_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def html_to_text(fragment: str | None) -> str:
    """Plain text of an HTML fragment (for summaries, the email's text part and the story engine)."""
    if not fragment:
        return ""
    if "<" not in fragment and "&" not in fragment:
        return fragment.strip()
    if "<" in fragment:
        marked = _BLOCK_END.sub(lambda m: m.group(0) + "\n", fragment)
        fragment = nh3.clean(marked, tags=set(), clean_content_tags=DROP_WITH_CONTENT)
    text = html.unescape(_TAG.sub("", fragment))
    text = _SPACE.sub(" ", text)
    return _NEWLINES.sub("\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) and parses, else None: a javascript: or data: link never reaches a page,
    and a link such as ``http://[::1/x`` (which urllib refuses to parse) never reaches a later stage."""
    if not url:
        return None
    url = url.strip()
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in ("http", "https"):
        return None
    try:
        urlsplit(url).port  # noqa: B018 - raises ValueError on bad brackets or a bad port
    except ValueError:
        return None
    return url


def truncate_words(text: str, limit: int) -> str:
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]) + "…"
