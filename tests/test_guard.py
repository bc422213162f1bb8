"""connect_target: the host a URL connects to, normalised exactly as aiohttp and yarl do. Pure: no request
is sent here (the end-to-end paths are in test_guard_paths); the resolver test asks only for numeric names
and localhost, which the system resolver answers itself without DNS."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest
from aiohttp.helpers import is_ip_address
from aiohttp.resolver import ThreadedResolver
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from aggregator.ingest.guard import AddressPolicy, URLRefusedError, connect_target
from aggregator.ingest.http import BlockedAddressError, GuardedResolver


@pytest.mark.parametrize(
    ("host", "connects_to"),
    [
        ("１２７．０．０．１", "127.0.0.1"),
        ("127。0。0。1", "127.0.0.1"),
        ("127｡0｡0｡1", "127.0.0.1"),
        ("①②⑦.⓪.⓪.①", "127.0.0.1"),
        ("𝟏𝟐𝟕.𝟎.𝟎.𝟏", "127.0.0.1"),
        ("127．0。0｡1", "127.0.0.1"),
        ("０.０.０.０", "0.0.0.0"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[0:0:0:0:0:0:0:1]", "::1"),
        ("ＥＸＡＭＰＬＥ．ｏｒｇ", "example.org"),
        ("Example.ORG", "example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("١٢٧.٠.٠.١", "xn--9hbcp.xn--8hb.xn--8hb.xn--9hb"),  # Arabic-Indic digits are letters to IDNA: a name
        ("example.org.", "example.org."),
        ("example.org..", "example.org."),  # aiohttp's connector collapses repeated trailing dots
        ("ｌｏｃａｌｈｏｓｔ", "localhost"),
    ],
)
def test_host_is_normalised_as_the_connector_sees_it(host: str, connects_to: str) -> None:
    assert connect_target(f"http://{host}:8080/x").host == connects_to


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.1", "IPv4 address 127.0.0.1 in a legacy numeric form"),
        ("１２７．１", "IPv4 address 127.0.0.1 in a legacy numeric form"),
        ("2130706433", "IPv4 address 127.0.0.1 in a legacy numeric form"),
        ("0177.0.0.1", "IPv4 address 127.0.0.1 in a legacy numeric form"),
        ("0x7f.1", "IPv4 address 127.0.0.1 in a legacy numeric form"),
        ("0x7f000001", "IPv4 address 127.0.0.1 in a legacy numeric form"),
        ("127.0.0.01", "IPv4 address 127.0.0.1 in a legacy numeric form"),
        ("0", "IPv4 address 0.0.0.0 in a legacy numeric form"),
        ("127.0.0.1.", "not a valid IP address"),
        ("１２７．０．０．１．", "not a valid IP address"),
        ("⒈27.0.0.1", "not a valid IP address"),  # DIGIT ONE FULL STOP maps to "1.": five parts
        ("[::1%25lo]", "zone identifier"),
        ("[fe80::1%25eth0]", "zone identifier"),
        ("[::ffff:１２７.０.０.１]", "cannot be normalised"),  # yarl maps the digits but drops the brackets
        ("[::１]", "cannot be normalised"),
        ("%31%32%37.0.0.1", "not a valid host name"),
        ("127.0.0.1%2e", "not a valid host name"),
        ("⑴②⑦.0.0.1", "not a valid host name"),  # maps to "(1)27.0.0.1"
        ("[::1", "cannot be parsed"),
        ("[::1]x", "cannot be parsed"),
        ("127.0.0.1\u200b", "cannot be parsed"),  # yarl refuses invisible characters
        ("a:99999", "cannot be parsed"),
    ],
)
def test_hosts_the_connector_would_misread_are_refused(host: str, reason: str) -> None:
    with pytest.raises(URLRefusedError, match=reason):
        connect_target(f"http://{host}/x")


@pytest.mark.parametrize(
    "url", ["ftp://example.org/", "javascript:alert(1)", "//example.org/", "http://", ""]
)
def test_only_http_urls_with_a_host(url: str) -> None:
    with pytest.raises(URLRefusedError):
        connect_target(url)


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("１２７．０．０．１", "its host 127.0.0.1 is a loopback address"),
        ("[::ffff:7f00:1]", "loopback"),
        ("０.０.０.０", "unspecified"),
        ("localhost", r"its host localhost \(127\.0\.0\.1\) is a loopback address"),
        ("LOCALHOST.", "loopback"),
        ("feeds.localhost", "loopback"),
        ("ｌｏｃａｌｈｏｓｔ", "loopback"),
    ],
)
def test_the_policy_judges_the_normalised_host(host: str, reason: str) -> None:
    with pytest.raises(URLRefusedError, match=reason) as refused:
        connect_target(f"http://{host}/x", AddressPolicy())
    assert refused.value.by_policy
    if reason != "unspecified":
        connect_target(f"http://{host}/x", AddressPolicy(allow_private=True))  # allowed for intranets


def test_names_are_left_to_the_resolver_and_allowed_addresses_pass() -> None:
    assert connect_target("http://example.org/", AddressPolicy()).ip is None
    loopback = AddressPolicy(allowed=(ipaddress.ip_network("127.0.0.1/32"),))
    target = connect_target("http://１２７．０．０．１:8080/f", loopback)
    assert (target.ip, target.origin) == (ipaddress.ip_address("127.0.0.1"), "http://127.0.0.1:8080")
    assert connect_target("https://[::1]:443/", AddressPolicy(allow_private=True)).origin == "https://[::1]"


@pytest.mark.parametrize("host", ["0x7f.1", "127.1", "2130706433", "0177.0.0.1", "0x7f000001", "localhost"])
def test_the_resolver_refuses_numeric_forms_and_localhost_too(host: str) -> None:
    """Behind connect_target, the guarded resolver refuses the same hosts from their addresses (the system
    resolver reads numeric forms itself and localhost from /etc/hosts: no DNS query is made)."""

    async def resolve() -> None:
        resolver = GuardedResolver(AddressPolicy(), ThreadedResolver())
        try:
            await resolver.resolve(host, 80)
        finally:
            await resolver.close()

    with pytest.raises(BlockedAddressError, match="loopback"):
        asyncio.run(resolve())


HOST_CHARS = st.sampled_from(
    list("0123456789abcfx.:[]%")
    + list("０１２３４５６７８９．。｡")  # fullwidth digits, full stops
    + list("①②⑦⓪⑴⒈¹²")  # circled, parenthesised, digit-full-stop, superscript
    + ["𝟏", "𝟎", "𝟙", "٣", "०", "\u00ad", "ｘ", "ｆ", "：", "［"]
)


@given(st.text(HOST_CHARS, min_size=1, max_size=24))
def test_every_host_aiohttp_would_connect_to_unresolved_is_judged_as_an_address(host: str) -> None:
    """The invariant the guard rests on: whatever the spelling, a host aiohttp connects to without the
    resolver is either refused or returned as an IP address for the policy to judge."""
    url = f"http://{host}/x"
    try:
        target = connect_target(url)
    except URLRefusedError:
        return
    raw = URL(url).raw_host or ""
    assert target.host == (raw.rstrip(".") + "." if raw.endswith("..") else raw)
    if is_ip_address(target.host):
        assert target.ip is not None


@pytest.mark.parametrize(
    ("address", "embedded"),
    [
        ("2002:7f00:1::", "127.0.0.1"),  # 6to4
        ("2002:a00:1::1", "10.0.0.1"),  # classified only, never contacted
        ("64:ff9b::7f00:1", "127.0.0.1"),  # NAT64
        ("64:ff9b::a9fe:a9fe", "169.254.169.254"),  # classified only, never contacted
        ("::7f00:1", "127.0.0.1"),  # IPv4-compatible
    ],
)
def test_ipv6_addresses_embedding_a_refused_ipv4_are_refused_for_it(address: str, embedded: str) -> None:
    refusal = AddressPolicy().refusal(address)
    assert refusal is not None and f"embedding {embedded}" in refusal
    with pytest.raises(URLRefusedError, match=f"embedding {embedded}"):
        connect_target(f"http://[{address}]/", AddressPolicy())


def test_ipv6_addresses_embedding_a_global_ipv4_are_judged_as_themselves() -> None:
    assert AddressPolicy().refusal("2002:5db8:d70e::1") is None  # 6to4 of 93.184.215.14: global
    assert AddressPolicy().refusal("::1") == "a loopback address"  # not "IPv4-compatible 0.0.0.1"
