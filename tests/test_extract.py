"""The extraction wrapper, robots.txt decisions, the page checks and the benchmark's metric (pure parts)."""

from __future__ import annotations

import asyncio
import ipaddress
import pickle
import socket
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.errors import ExtractError, FetchError
from aggregator.evaluation.extraction import Page, SnippetPage, scores, shingle_tp_fp_fn, snippets_pass
from aggregator.fulltext.extract import (
    MAX_CRAWL_DELAY,
    article_body,
    check_response,
    decode_page,
    entry_word_count,
    media_type,
    retry_delay,
    wants_page,
)
from aggregator.fulltext.worker import (
    extract_article,
    normalise_language,
    page_language,
    parse_page_date,
    run_trafilatura,
)
from aggregator.ingest.http import AddressPolicy, Fetcher, FetchOptions, Response
from aggregator.ingest.robots import host_key, robots_url, rules_from_response

from .httpserver import FeedServer

UA = "aggregator/0.1 (+https://github.com/aggregator-news/aggregator)"
PAGE = (
    "<html lang='fr'><head><title>Le port</title><meta name='author' content='Marie Dupont'></head><body>"
    "<article><p>Le nouveau brise-lames du port sera achevé avant les tempêtes de l'hiver, a annoncé mardi "
    "l'autorité portuaire.</p><p>Les ingénieurs travaillent en équipes depuis le mois de mars et ont déplacé "
    "plus de quarante mille tonnes de roche.</p></article></body></html>"
)


def test_extract_article_in_a_worker_returns_text_and_metadata() -> None:
    result = extract_article(PAGE.encode(), "https://port.example/brise-lames", timeout=30)
    assert "brise-lames du port" in result.text and "quarante mille tonnes" in result.text
    assert result.language == "fr" and result.author == "Marie Dupont"
    assert result == run_trafilatura(PAGE.encode(), "https://port.example/brise-lames")


def test_a_page_without_main_text_is_an_error() -> None:
    with pytest.raises(ExtractError, match="no main text"):
        extract_article(b"<html><body></body></html>", "https://port.example/", timeout=30)


@pytest.mark.parametrize(
    ("html", "header", "expected"),
    [
        (b"<!doctype html><HTML class='x' LANG=\"en-US\">", None, "en-us"),
        (b"<html><head><meta http-equiv='Content-Language' content='de_AT'>", None, "de-at"),
        (b"<html><head><meta property='og:locale' content='pt_BR' />", None, "pt-br"),
        (b"<html><head></head>", "nl, en;q=0.5", "nl"),
        (b"<html lang='{{lang}}'><head></head>", None, None),
        ("<html lang='es'>", None, "es"),
    ],
)
def test_page_language(html: bytes | str, header: str | None, expected: str | None) -> None:
    assert page_language(html, header) == expected


def test_small_normalisers() -> None:
    assert normalise_language(" EN_gb ") == "en-gb"
    assert normalise_language("english language") is None
    assert parse_page_date("2019-11-20") == datetime(2019, 11, 20, tzinfo=UTC)
    assert parse_page_date("2019-02-30") is None
    assert parse_page_date(None) is None


# Deciding ---------------------------------------------------------------------------------------------------


def test_word_count_and_modes() -> None:
    assert entry_word_count("<p>one two</p>", "<div><p>a b c</p><script>x y z w</script></div>") == 3
    assert entry_word_count(None, None) == 0
    assert wants_page("auto", 149, 150) and not wants_page("auto", 150, 150)
    assert wants_page("always", 10_000, 150) and not wants_page("never", 0, 150)


def test_article_body_prefers_the_extracted_text() -> None:
    assert article_body("Full text.", "<p>content</p>", "teaser") == "Full text."
    assert article_body(None, "<p>content &amp; more</p>", "teaser") == "content & more"
    assert article_body("  ", "", "<b>teaser</b>") == "teaser"


def test_retry_delay_doubles_and_is_capped() -> None:
    assert [retry_delay(n, 30) for n in (1, 2, 3)] == [timedelta(minutes=m) for m in (30, 60, 120)]
    assert retry_delay(40, 30) == timedelta(days=2)


def response(
    status: int = 200, content_type: str | None = "text/html", body: bytes = b"<p>x</p>"
) -> Response:
    headers = {"content-type": content_type} if content_type else {}
    return Response(url="http://a/", final_url="http://a/", status=status, headers=headers, body=body)


def test_page_checks() -> None:
    assert check_response(response()) is None
    assert check_response(response(content_type="application/xhtml+xml; charset=utf-8")) is None
    assert check_response(response(content_type=None, body=b"  <!DOCTYPE html><html>")) is None
    pdf = check_response(response(content_type="application/pdf"))
    assert pdf is not None and pdf.permanent and "application/pdf" in pdf.reason
    missing = check_response(response(content_type=None, body=b"%PDF"))
    assert missing is not None and missing.permanent
    for gone in (404, 410, 403):
        problem = check_response(response(gone))
        assert problem is not None and problem.permanent and problem.reason == f"HTTP {gone}"
    for transient in (429, 500, 503):
        problem = check_response(response(transient))
        assert problem is not None and not problem.permanent


def _fetch_error(url: str, policy: AddressPolicy | None = None, **limits: object) -> FetchError:
    loopback = AddressPolicy(allowed=(ipaddress.ip_network("127.0.0.1/32"),))
    options = FetchOptions(policy=policy or loopback, **limits)  # type: ignore[arg-type]

    async def run() -> None:
        async with Fetcher(options) as fetcher:
            await fetcher.get(url)

    with pytest.raises(FetchError) as caught:
        asyncio.run(run())
    return caught.value


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_fetch_errors_say_whether_a_retry_can_help(feed_server: FeedServer) -> None:
    """The client marks each failure where it raises it; the retry policy reads the field, not the text."""
    feed_server.redirect("/loop-a", "/loop-b")
    feed_server.redirect("/loop-b", "/loop-a")
    permanent = [
        _fetch_error(feed_server.oversized("/big", size=200_000), max_body_bytes=100_000),
        _fetch_error(feed_server.url("/loop-a")),
        _fetch_error(feed_server.route("/page", b"<html></html>"), policy=AddressPolicy()),  # guard refuses
        _fetch_error("ftp://127.0.0.1/file"),
    ]
    assert all(e.permanent for e in permanent), [e.reason for e in permanent]
    assert [p for p in feed_server.paths() if p == "/page"] == []  # the refused request was never sent
    transient = [
        _fetch_error(f"http://127.0.0.1:{_closed_port()}/page"),  # the server may come back
        _fetch_error(feed_server.trickle("/slow", b"x" * 100, delay=0.2), deadline=0.3),
    ]
    assert not any(e.permanent for e in transient), [e.reason for e in transient]
    copy = pickle.loads(pickle.dumps(permanent[0]))  # errors cross the parser's process pool
    assert (copy.url, copy.reason, copy.permanent) == (permanent[0].url, permanent[0].reason, True)


def test_decoding_follows_the_header_charset() -> None:
    assert media_type("text/HTML; Charset=ISO-8859-1") == ("text/html", "ISO-8859-1")
    assert decode_page("café".encode("latin-1"), "iso-8859-1") == "café"
    assert decode_page(b"caf\xc3\xa9", None) == b"caf\xc3\xa9"  # trafilatura reads <meta charset>
    assert decode_page(b"x", "no-such-charset") == b"x"


# robots.txt -------------------------------------------------------------------------------------------------


def test_robots_rules_follow_rfc_9309() -> None:
    body = (
        b"User-agent: *\nDisallow: /private/\n\nUser-agent: aggregator\nDisallow: /drafts/\nCrawl-delay: 5\n"
    )
    rules = rules_from_response(200, body)
    assert rules.allows("http://a.test/news/1", UA)
    assert not rules.allows("http://a.test/drafts/1", UA)
    assert rules.allows("http://a.test/private/1", UA)  # our own group applies, not *
    assert rules.crawl_delay(UA) == 5.0
    assert not rules_from_response(200, b"User-agent: *\nDisallow: /\n").allows("http://a.test/x", UA)
    assert rules_from_response(404, b"").allows("http://a.test/x", UA)  # no file: no rules
    assert not rules_from_response(503, b"").allows("http://a.test/x", UA)  # unreachable
    assert not rules_from_response(None, b"", "timeout").allows("http://a.test/x", UA)
    assert robots_url("https://A.test:8443/a/b?c#d") == "https://a.test:8443/robots.txt"
    assert host_key("https://A.test:8443/a") == "https://a.test:8443"


# The benchmark's metric -------------------------------------------------------------------------------------


def test_shingle_metric() -> None:
    text = "one two three four five six"
    assert shingle_tp_fp_fn(text, text) == (1.0, 0.0, 0.0)
    assert shingle_tp_fp_fn(text, "") == (0.0, 0.0, 1.0)
    tp, fp, fn = shingle_tp_fp_fn(text, "one two three four five six seven")
    assert (tp, fp, fn) == (3 / 4, 1 / 4, 0.0)
    result = scores([(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)])
    assert (result.precision, result.recall) == (1.0, 0.5)  # the empty prediction counts for recall only
    assert result.f1 == pytest.approx(2 / 3)


def test_snippet_rule() -> None:
    page = SnippetPage(Page("p", "u", b""), must=("alpha", "beta"), must_not=("gamma",))
    assert snippets_pass("alpha and beta", page)
    assert not snippets_pass("alpha only", page)
    assert not snippets_pass("alpha beta gamma", page)
    assert not snippets_pass(None, page)


def test_an_image_url_that_does_not_parse_is_dropped_not_an_error() -> None:
    page = PAGE.replace("<title>", "<meta property='og:image' content='http://[::1/x.jpg'><title>")
    result = run_trafilatura(page.encode(), "https://port.example/brise-lames")
    assert result is not None and "brise-lames du port" in result.text and result.image is None


@pytest.mark.parametrize(
    "line",
    [
        "Crawl-delay: ①",  # str.isdigit() but not int(): urllib.robotparser raised ValueError
        "Crawl-delay: ²",
        "Crawl-delay: 1.5",
        "Request-rate: ①/5",
        "Request-rate: 1/" + "9" * 5000,
    ],
)
def test_odd_robots_numbers_are_ignored_not_an_error(line: str) -> None:
    rules = rules_from_response(200, f"User-agent: *\n{line}\nDisallow: /private/\n".encode())
    assert rules.allows("http://a.test/news", UA) and not rules.allows("http://a.test/private/1", UA)
    assert rules.crawl_delay(UA) is None


@pytest.mark.parametrize("digits", [20, 400, 5000])  # 400: float() overflowed; 5000: int() refused
def test_a_huge_crawl_delay_is_capped_not_an_overflow(digits: int) -> None:
    rules = rules_from_response(200, b"User-agent: *\nCrawl-delay: " + b"9" * digits + b"\n")
    delay = rules.crawl_delay(UA)
    assert delay is not None and delay >= MAX_CRAWL_DELAY


def _page(charset_meta: str, text: str = "Café crème à la carte") -> str:
    return (
        f"<!doctype html><html><head>{charset_meta}<title>t</title></head><body><p>{text}</p></body></html>"
    )


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        # The header is wrong and cannot decode the bytes: the document's own declaration is used.
        (_page("<meta charset='windows-1252'>").encode("cp1252"), "utf-8", "Café crème"),
        (
            _page('<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">').encode(
                "latin-1"
            ),
            "us-ascii",
            "Café crème",
        ),
        (_page("<meta charset=koi8-r>", "Привет").encode("koi8_r"), "utf-8", "Привет"),
        (
            b'<?xml version="1.0" encoding="windows-1252"?>' + _page("").encode("cp1252"),
            "utf-8",
            "Café crème",
        ),
        # A legacy single-byte header (a server's default) over UTF-8 that says it is UTF-8: UTF-8.
        (_page("<meta charset='utf-8'>").encode(), "iso-8859-1", "Café crème"),
        (_page("<meta charset=UTF-8>").encode(), "windows-1252", "Café crème"),
        # A byte order mark decides, whatever the header says (as browsers do).
        (b"\xef\xbb\xbf" + _page("").encode(), "iso-8859-1", "Café crème"),
        (_page("").encode("utf-16"), "utf-8", "Café crème"),
        # A right header is followed, even against the document's declaration.
        (_page("<meta charset='utf-8'>").encode("latin-1"), "iso-8859-1", "Café crème"),
    ],
)
def test_a_wrong_charset_header_falls_back_to_the_documents_own(
    body: bytes, header: str, expected: str
) -> None:
    page = decode_page(body, header)
    assert isinstance(page, str) and expected in page and "\ufffd" not in page


@pytest.mark.parametrize(
    "header", ["base64", "rot13", "uu", "zlib", "hex", "idna", "punycode", "utf-7", "unicode_escape", "utf-8"]
)
def test_a_charset_that_decodes_nothing_leaves_the_bytes_to_trafilatura(header: str) -> None:
    body = _page("").encode("cp1252")  # undeclared and not valid UTF-8
    assert decode_page(body, header) == body
