"""The address classifier and the allow_networks parser, with generated inputs."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.pipeline.netguard import (
    AddressPolicy,
    AllowedEndpoint,
    classify_address,
    is_valid_hostname,
    parse_allow_entry,
    parse_legacy_ipv4,
)

NON_PUBLIC_NETWORKS = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
    "4000::/2",
    "::2:0:0/96",
]

PUBLIC_ADDRESSES = [
    "1.1.1.1",
    "8.8.8.8",
    "93.184.216.34",
    "2606:4700:4700::1111",
    "2a00:1450:4001::200e",
    "64:ff9b::808:808",
    "2002:808:808::1",
]

ipv4_addresses = st.builds(IPv4Address, st.integers(0, 2**32 - 1))
ipv6_addresses = st.builds(IPv6Address, st.integers(0, 2**128 - 1))
ports = st.integers(1, 65535)


@pytest.mark.parametrize("cidr", NON_PUBLIC_NETWORKS)
@given(data=st.data())
def test_every_address_in_a_non_public_network_is_refused(cidr: str, data: st.DataObject) -> None:
    network = ipaddress.ip_network(cidr)
    offset = data.draw(st.integers(0, network.num_addresses - 1))
    address = network.network_address + offset
    assert classify_address(address) is not None


@pytest.mark.parametrize("text", PUBLIC_ADDRESSES)
def test_public_addresses_are_allowed(text: str) -> None:
    assert classify_address(ipaddress.ip_address(text)) is None


@given(ipv4_addresses)
def test_embedded_ipv4_forms_are_judged_by_the_embedded_address(address: IPv4Address) -> None:
    verdict = classify_address(address) is None
    mapped = IPv6Address(0xFFFF_0000_0000 | int(address))
    nat64 = IPv6Address((0x64FF9B << 96) | int(address))
    six_to_four = IPv6Address((0x2002 << 112) | (int(address) << 80) | 1)
    for embedded in (mapped, nat64, six_to_four):
        assert (classify_address(embedded) is None) == verdict


@given(ipv6_addresses)
def test_ipv6_outside_global_unicast_is_refused(address: IPv6Address) -> None:
    allowed_prefixes = (
        IPv6Network("2000::/3"),
        IPv6Network("::ffff:0:0/96"),
        IPv6Network("64:ff9b::/96"),
    )
    assume(not any(address in prefix for prefix in allowed_prefixes))
    assert classify_address(address) is not None


@given(ipv4_addresses | ipv6_addresses)
def test_allowed_ipv4_addresses_are_global_by_pythons_table_too(
    address: IPv4Address | IPv6Address,
) -> None:
    if classify_address(address) is None and address.version == 4:
        assert address.is_global
        assert not address.is_multicast


@given(ipv4_addresses, ports)
def test_address_port_entries_round_trip(address: IPv4Address, port: int) -> None:
    assert parse_allow_entry(f"{address}:{port}") == AllowedEndpoint(address, port)


@given(ipv6_addresses, ports)
def test_bracketed_ipv6_entries_round_trip(address: IPv6Address, port: int) -> None:
    assert parse_allow_entry(f"[{address}]:{port}") == AllowedEndpoint(address, port)


@given(ipv4_addresses, st.integers(0, 32))
def test_cidr_entries_round_trip(address: IPv4Address, prefix: int) -> None:
    network = IPv4Network(f"{address}/{prefix}", strict=False)
    assert parse_allow_entry(str(network)) == network


@given(st.text(max_size=60))
def test_entry_parser_accepts_or_raises_value_error(text: str) -> None:
    message = None
    try:
        parsed = parse_allow_entry(text)
    except ValueError as error:
        message = str(error)
    else:
        assert isinstance(parsed, AllowedEndpoint | IPv4Network | IPv6Network)
    if message is not None:
        assert repr(text) in message


@pytest.mark.parametrize(
    "entry",
    [
        "127.0.0.1",
        "::1",
        "localhost:80",
        "10.0.0.1/8",
        "127.0.0.1:0",
        "127.0.0.1:65536",
        "127.1:80",
        "::1:80",
        "[::1]",
        "[::1]:",
        "[127.0.0.1]:80",
        " 10.0.0.0/8",
        "10.0.0.0/33",
        "fe80::1%eth0/128",
        "127.0.0.1:８０",
        "",
        "010.0.0.1:80",
    ],
)
def test_bad_entries_are_refused_with_the_entry_named(entry: str) -> None:
    with pytest.raises(ValueError, match="allow_networks entry"):
        parse_allow_entry(entry)


@given(ipv4_addresses.filter(lambda a: classify_address(a) is not None), ports, ports)
def test_an_endpoint_entry_opens_exactly_one_port(
    address: IPv4Address, port: int, other_port: int
) -> None:
    policy = AddressPolicy.from_entries([f"{address}:{port}"])
    assert policy.refusal_reason(address, port) is None
    mapped = IPv6Address(0xFFFF_0000_0000 | int(address))
    assert policy.refusal_reason(mapped, port) is None
    if other_port != port:
        assert policy.refusal_reason(address, other_port) is not None


def test_a_cidr_entry_opens_every_port_in_the_network() -> None:
    policy = AddressPolicy.from_entries(["10.0.0.0/8", "fd00::/8"])
    assert policy.refusal_reason(IPv4Address("10.9.8.7"), 1) is None
    assert policy.refusal_reason(IPv4Address("10.9.8.7"), 65535) is None
    assert policy.refusal_reason(IPv6Address("fd00::5"), 443) is None
    assert policy.refusal_reason(IPv4Address("192.168.0.1"), 80) == "a private address"


def test_policy_from_a_single_string_is_refused() -> None:
    with pytest.raises(ValueError, match="list"):
        AddressPolicy.from_entries("10.0.0.0/8")


@given(ipv4_addresses)
def test_legacy_ipv4_spellings_mean_the_same_address(address: IPv4Address) -> None:
    value = int(address)
    octets = str(address).split(".")
    assert parse_legacy_ipv4(str(address)) == address
    assert parse_legacy_ipv4(str(value)) == address
    assert parse_legacy_ipv4(hex(value)) == address
    assert parse_legacy_ipv4(".".join(f"0{int(o):o}" for o in octets)) == address
    assert parse_legacy_ipv4(f"{octets[0]}.{value & 0xFFFFFF}") == address
    assert parse_legacy_ipv4(f"{address}.") == address


@pytest.mark.parametrize("name", ["example.com", "feeds.example.org.", "localhost", "a-b.c_d"])
def test_ordinary_names_are_not_ipv4(name: str) -> None:
    assert parse_legacy_ipv4(name) is None
    assert is_valid_hostname(name)


@given(st.text(max_size=30))
def test_legacy_ipv4_parser_returns_or_raises_value_error(text: str) -> None:
    try:
        result = parse_legacy_ipv4(text)
    except ValueError:
        return
    assert result is None or isinstance(result, IPv4Address)
