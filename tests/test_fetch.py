"""The HTTP client against a real server on 127.0.0.1: limits, redirects and the address guard."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from aggregator.errors import FetchError
from aggregator.ingest.http import AddressPolicy, Fetcher, FetchOptions, Response

from .httpserver import FeedServer, LoggedRequest, Route, gzip_of_zeros

LOOPBACK_ONLY = AddressPolicy(allowed=(ipaddress.ip_network("127.0.0.1/32"),))
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def options(**overrides: object) -> FetchOptions:
    base: dict[str, object] = {
        "policy": LOOPBACK_ONLY,
        "user_agent": "aggregator-test/1 (+https://example.org)",
    }
    base.update(overrides)
    return FetchOptions(**base)  # type: ignore[arg-type]


def get(url: str, headers: Mapping[str, str] | None = None, **overrides: object) -> Response:
    async def run() -> Response:
        async with Fetcher(options(**overrides)) as f:
            return await f.get(url, headers=headers)

    return asyncio.run(run())


def test_plain_get_sends_user_agent_and_returns_body(feed_server: FeedServer) -> None:
    url = feed_server.route("/f.xml", RSS, headers={"Cache-Control": "max-age=600"})
    r = get(url)
    assert (r.status, r.body, r.final_url, r.history) == (200, RSS, url, ())
    assert r.header("Cache-Control") == "max-age=600"
    [req] = feed_server.requests
    assert req.header("user-agent") == "aggregator-test/1 (+https://example.org)"
    assert "gzip" in (req.header("accept-encoding") or "")


def test_conditional_headers_are_sent_exactly_and_304_comes_back(feed_server: FeedServer) -> None:
    url = feed_server.route("/f.xml", RSS, etag='W/"abc"', last_modified="Mon, 20 Sep 2021 13:00:00 GMT")
    first = get(url)
    assert first.header("etag") == 'W/"abc"'
    second = get(url, {"If-None-Match": 'W/"abc"', "If-Modified-Since": "Mon, 20 Sep 2021 13:00:00 GMT"})
    assert second.status == 304 and second.body == b""
    assert feed_server.requests[1].header("if-none-match") == 'W/"abc"'
    assert feed_server.requests[1].header("if-modified-since") == "Mon, 20 Sep 2021 13:00:00 GMT"


def test_gzip_body_is_decoded(feed_server: FeedServer) -> None:
    with feed_server.lock:
        feed_server.routes["/g"] = Route(200, b"", {"Content-Encoding": "gzip"}, raw_body=gzip.compress(RSS))
    assert get(feed_server.url("/g")).body == RSS


def test_gzip_body_without_content_encoding_is_decoded_under_the_cap(feed_server: FeedServer) -> None:
    url = feed_server.route("/g.xml.gz", gzip.compress(RSS), content_type="application/x-gzip")
    assert get(url).body == RSS
    with feed_server.lock:
        feed_server.routes["/bomb.gz"] = Route(200, b"", {}, raw_body=gzip_of_zeros(8 << 20))
    with pytest.raises(FetchError, match="larger than the cap"):
        get(feed_server.url("/bomb.gz"), max_body_bytes=1 << 20)


def test_redirect_chain_is_followed_and_recorded(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b", status=301)
    feed_server.redirect("/b", feed_server.url("/c"), status=302)
    target = feed_server.route("/c", RSS)
    r = get(feed_server.url("/a"))
    assert r.final_url == target and r.body == RSS
    assert [(h.status, h.location) for h in r.history] == [(301, feed_server.url("/b")), (302, target)]


def test_redirect_loop_is_an_error(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b")
    feed_server.redirect("/b", "/a")
    with pytest.raises(FetchError, match="redirect loop"):
        get(feed_server.url("/a"))
    assert feed_server.paths() == ["/a", "/b"]


def test_too_many_redirects(feed_server: FeedServer) -> None:
    for i in range(5):
        feed_server.redirect(f"/r{i}", f"/r{i + 1}", status=307)
    feed_server.route("/r5", RSS)
    with pytest.raises(FetchError, match="more than 2 redirects"):
        get(feed_server.url("/r0"), max_redirects=2)


def test_redirect_to_a_non_http_scheme_is_refused(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "file:///etc/passwd")
    with pytest.raises(FetchError, match="non-http"):
        get(feed_server.url("/a"))


def test_slow_trickle_is_cut_at_the_deadline(feed_server: FeedServer) -> None:
    # Each byte arrives well within the read timeout, so only the overall deadline can stop it.
    url = feed_server.trickle("/slow", RSS * 10, delay=0.05)
    with pytest.raises(FetchError, match=r"deadline of 0\.5s exceeded"):
        get(url, deadline=0.5, read_timeout=5.0)


def test_oversized_body_is_cut_at_the_cap(feed_server: FeedServer) -> None:
    url = feed_server.oversized("/big", size=300_000)
    with pytest.raises(FetchError, match="larger than the cap of 100000 bytes"):
        get(url, max_body_bytes=100_000)


def test_gzip_bomb_stops_at_the_decoded_cap(feed_server: FeedServer) -> None:
    url = feed_server.gzip_bomb("/bomb", decoded_size=64 << 20)
    with pytest.raises(FetchError, match=r"larger than the cap of 1048576 bytes \(decoded\)"):
        get(url, max_body_bytes=1 << 20)


def test_error_statuses_come_back_for_the_caller_to_judge(feed_server: FeedServer) -> None:
    url = feed_server.route("/gone", b"gone", status=410, content_type="text/plain")
    assert get(url).status == 410


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]"])
def test_address_guard_refuses_loopback_and_nothing_is_sent(feed_server: FeedServer, host: str) -> None:
    feed_server.route("/f.xml", RSS)
    url = f"http://{host}:{feed_server.port}/f.xml"
    with pytest.raises(FetchError, match="loopback address"):
        get(url, policy=AddressPolicy())
    assert feed_server.requests == []


@dataclass(frozen=True)
class FirstCheckOnly(AddressPolicy):
    """Allows the first address check and refuses the rest: shows the guard runs again on each hop."""

    checks: list[str] = field(default_factory=list)

    def refusal(self, address: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        self.checks.append(str(address))
        return None if len(self.checks) == 1 else "refused on a later hop"


def test_address_guard_applies_to_every_redirect_hop(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b")
    feed_server.route("/b", RSS)
    policy = FirstCheckOnly()
    with pytest.raises(FetchError, match=f"refusing {feed_server.url('/b')}: .* refused on a later hop"):
        get(feed_server.url("/a"), policy=policy)
    assert policy.checks == ["127.0.0.1", "127.0.0.1"]
    assert feed_server.paths() == ["/a"]


def test_allow_private_switch_admits_loopback(feed_server: FeedServer) -> None:
    url = feed_server.route("/f.xml", RSS)
    assert get(url, policy=AddressPolicy(allow_private=True)).status == 200


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private"),  # classified only, never contacted
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),  # classified only, never contacted
        ("127.0.0.1", "loopback"),
        ("169.254.169.254", "link-local"),  # classified only, never contacted
        ("100.64.0.1", "CGNAT"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:10.0.0.1", "private"),  # classified only, never contacted
        ("::ffff:169.254.169.254", "link-local"),  # classified only, never contacted
    ],
)
def test_policy_refuses_non_global_ranges(address: str, reason: str) -> None:
    # Pure decision only: these addresses are classified, never contacted.
    refusal = AddressPolicy().refusal(address)
    assert refusal is not None and reason in refusal


def test_policy_allows_global_addresses_and_listed_networks() -> None:
    assert AddressPolicy().refusal("93.184.215.14") is None
    assert AddressPolicy().refusal("2606:4700::1111") is None
    assert AddressPolicy(allow_private=True).refusal("10.1.2.3") is None  # classified only, never contacted
    assert AddressPolicy(allow_private=True).refusal("224.0.0.1") is not None
    listed = AddressPolicy(allowed=(ipaddress.ip_network("127.0.0.1/32"),))
    assert listed.refusal("127.0.0.1") is None and listed.refusal("127.0.0.2") is not None


def test_handler_routes_see_the_request(feed_server: FeedServer) -> None:
    def handler(request: LoggedRequest) -> Route:
        return Route(200, request.path.encode(), {"Content-Type": "text/plain"})

    url = feed_server.handler("/echo", handler)
    assert get(url + "?q=1").body == b"/echo?q=1"


def test_file_routes_serve_a_folder_with_validators(feed_server: FeedServer, tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.xml").write_bytes(RSS)
    base = feed_server.files("/feeds/", tmp_path)
    first = get(base + "sub/a.xml")
    assert (first.status, first.body, first.header("content-type")) == (200, RSS, "application/xml")
    etag = first.header("etag")
    assert etag is not None and first.header("last-modified") is not None
    assert get(base + "sub/a.xml", {"If-None-Match": etag}).status == 304
    assert get(base + "../conftest.py").status == 404  # never outside the folder
    assert get(base + "missing.xml").status == 404


@pytest.mark.parametrize("location", ["http://[::1/x", "http://[::1]x/", "//[::1/x"])
def test_a_redirect_location_that_does_not_parse_is_a_one_line_error(
    feed_server: FeedServer, location: str
) -> None:
    feed_server.redirect("/a", location)
    with pytest.raises(FetchError, match=r"(bad redirect Location '.*'|cannot be parsed).*Invalid IPv6") as e:
        get(feed_server.url("/a"))
    assert "\n" not in str(e.value)
    assert feed_server.paths() == ["/a"]


def test_the_deadline_starts_when_the_request_does_not_while_queued(feed_server: FeedServer) -> None:
    """Five requests to one host that takes ~0.45 s each, one at a time: the last waits ~1.8 s for its
    connection slot. Each request is well within the 1.5 s deadline; the wait for a slot is not counted."""
    url = feed_server.trickle("/slow", RSS[:45], delay=0.01)

    async def run() -> list[Response | BaseException]:
        async with Fetcher(options(per_host_concurrency=1, deadline=1.5, read_timeout=5.0)) as f:
            return await asyncio.gather(*(f.get(url) for _ in range(5)), return_exceptions=True)

    results = asyncio.run(run())
    assert [r.status if isinstance(r, Response) else str(r) for r in results] == [200] * 5
    assert len(feed_server.requests) == 5


def test_the_deadline_still_covers_every_hop_of_one_request(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b")
    feed_server.trickle("/b", RSS * 4, delay=0.01)  # ~3.4 s of body: over the deadline on its own
    with pytest.raises(FetchError, match=r"deadline of 1\.0s exceeded"):
        get(feed_server.url("/a"), deadline=1.0, read_timeout=5.0)
