"""URL canonicalisation: one spelling per article URL."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.ingest.urls import canonical_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM:80/a?utm_source=x&b=1#frag", "http://example.com/a?b=1"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org:443/x?fbclid=1&gclid=2&mc_cid=3&mc_eid=4", "https://example.org/x"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
        ("https://example.org/x?id=7&utm_medium=rss&UTM_Campaign=y", "https://example.org/x?id=7"),
        ("https://example.org/Case/Path?q=A", "https://example.org/Case/Path?q=A"),
        ("  https://example.org/x  ", "https://example.org/x"),
        ("https://[2001:db8::1]:443/x", "https://[2001:db8::1]/x"),
    ],
)
def test_canonical_form(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [None, "", "ftp://example.org/x", "javascript:alert(1)", "mailto:a@example.org", "/relative", "https://",
     "https://user:pw@example.org/", "http://example.org:99999/"],
)  # fmt: skip
def test_only_http_and_https_survive(url: str | None) -> None:
    assert canonical_url(url) is None


@given(st.text())
def test_idempotent_on_any_text(text: str) -> None:
    once = canonical_url(text)
    assert once is None or canonical_url(once) == once


@given(
    scheme=st.sampled_from(["http", "HTTPS", "Http"]),
    host=st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,20}[A-Za-z0-9])?(\.[A-Za-z]{2,6}){1,2}", fullmatch=True),
    port=st.sampled_from(["", ":80", ":443", ":8080"]),
    path=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="#?"), max_size=30),
    query=st.lists(
        st.tuples(st.sampled_from(["id", "utm_source", "fbclid", "page", "q"]), st.text(max_size=8))
    ),
    fragment=st.text(max_size=10),
)
def test_idempotent_on_url_like_input(
    scheme: str, host: str, port: str, path: str, query: list[tuple[str, str]], fragment: str
) -> None:
    url = f"{scheme}://{host}{port}/{path}?{urlencode(query)}#{fragment}"
    once = canonical_url(url)
    assert once is not None and canonical_url(once) == once
    parts = urlsplit(once)
    assert not {k for k, _ in parse_qsl(parts.query)} & {"utm_source", "fbclid"}
    assert parts.fragment == "" and "#" not in once
    assert once.startswith(("http://", "https://")) and host.lower() in once
