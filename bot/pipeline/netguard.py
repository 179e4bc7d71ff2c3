"""Which network addresses a feed fetch may dial.

Pure functions and one frozen policy object; no I/O. :mod:`bot.pipeline.fetch` applies
:class:`AddressPolicy` to every address it is about to connect to, after DNS resolution, so a
hostname that resolves (or later re-resolves) to an internal address is refused.

Refused by default (IPv4 and IPv6): loopback, private (RFC 1918, unique-local), link-local,
carrier-grade NAT 100.64.0.0/10, multicast, unspecified, broadcast, documentation,
benchmarking, IETF-reserved ranges, and everything outside IPv6 global unicast 2000::/3.
IPv4-mapped (``::ffff:a.b.c.d``), NAT64 (``64:ff9b::/96``) and 6to4 (``2002::/16``) addresses
are judged by the IPv4 address they embed.

``allow_networks`` entries (strictly parsed by :func:`parse_allow_entry`) open holes:

* ``"10.0.0.0/8"`` or ``"fd00::/8"`` – a CIDR network; any port on those addresses;
* ``"127.0.0.1:8097"`` or ``"[::1]:8080"`` – exactly that address and port, nothing else.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import TypeAlias

__all__ = [
    "AddressPolicy",
    "AllowedEndpoint",
    "IPAddress",
    "IPNetwork",
    "classify_address",
    "is_valid_hostname",
    "parse_allow_entry",
    "parse_legacy_ipv4",
    "unmap_address",
]

IPAddress: TypeAlias = IPv4Address | IPv6Address
IPNetwork: TypeAlias = IPv4Network | IPv6Network

_PORT_PATTERN = re.compile(r"[0-9]{1,5}")
_HOST_LABEL_PATTERN = re.compile(r"[a-z0-9_-]{1,63}")
_BRACKETED_ENDPOINT_PATTERN = re.compile(r"\[([^\[\]]+)\]:([^:]+)")

_ENTRY_HINT = (
    "use a CIDR network such as 10.0.0.0/8 or fd00::/8, "
    "or one address and port such as 127.0.0.1:8097 or [::1]:8080"
)


def _networks(*pairs: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), reason) for cidr, reason in pairs)


# Most specific first: the first match names the reason.
_IPV4_NON_PUBLIC = _networks(
    ("0.0.0.0/8", "an unspecified ('this network') address"),
    ("10.0.0.0/8", "a private address"),
    ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
    ("127.0.0.0/8", "a loopback address"),
    ("169.254.0.0/16", "a link-local address"),
    ("172.16.0.0/12", "a private address"),
    ("192.0.0.0/24", "a reserved IETF protocol address"),
    ("192.0.2.0/24", "a documentation address"),
    ("192.88.99.0/24", "a reserved 6to4 relay address"),
    ("192.168.0.0/16", "a private address"),
    ("198.18.0.0/15", "a benchmarking address"),
    ("198.51.100.0/24", "a documentation address"),
    ("203.0.113.0/24", "a documentation address"),
    ("224.0.0.0/4", "a multicast address"),
    ("255.255.255.255/32", "the broadcast address"),
    ("240.0.0.0/4", "a reserved address"),
)

_IPV6_NON_PUBLIC = _networks(
    ("::/128", "the unspecified address"),
    ("::1/128", "a loopback address"),
    ("::/96", "a deprecated IPv4-compatible address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("100::/64", "a discard-only address"),
    ("2001:db8::/32", "a documentation address"),
    ("2001::/23", "a reserved IETF protocol address"),
    ("3fff::/20", "a documentation address"),
    ("fc00::/7", "a unique-local (private) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a deprecated site-local address"),
    ("ff00::/8", "a multicast address"),
)


_IPV6_GLOBAL_UNICAST = IPv6Network("2000::/3")
_NAT64_WELL_KNOWN = IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = IPv6Network("2002::/16")


def unmap_address(address: IPAddress) -> IPAddress:
    """Return the IPv4 address behind an IPv4-mapped IPv6 address, else ``address`` itself."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def classify_address(address: IPAddress) -> str | None:
    """Say why ``address`` is not a public unicast address, or return ``None`` if it is.

    The reason is a noun phrase ready for a sentence: ``"a loopback address"``.
    """
    if isinstance(address, IPv4Address):
        return _classify_ipv4(address)
    mapped = address.ipv4_mapped
    if mapped is not None:
        return _embedded_reason("an IPv4-mapped", mapped)
    if address in _NAT64_WELL_KNOWN:
        return _embedded_reason("a NAT64", IPv4Address(int(address) & 0xFFFFFFFF))
    if address in _SIX_TO_FOUR:
        return _embedded_reason("a 6to4", IPv4Address((int(address) >> 80) & 0xFFFFFFFF))
    for network, reason in _IPV6_NON_PUBLIC:
        if address in network:
            return reason
    if address not in _IPV6_GLOBAL_UNICAST:
        return "a reserved address outside IPv6 global unicast"
    if not address.is_global:
        return "a non-public address"
    return None


def _classify_ipv4(address: IPv4Address) -> str | None:
    for network, reason in _IPV4_NON_PUBLIC:
        if address in network:
            return reason
    if not address.is_global or address.is_multicast:
        return "a non-public address"
    return None


def _embedded_reason(kind: str, embedded: IPv4Address) -> str | None:
    reason = _classify_ipv4(embedded)
    if reason is None:
        return None
    return f"{kind} form of {embedded}, {reason}"


@dataclass(frozen=True, slots=True)
class AllowedEndpoint:
    """One address and port that ``allow_networks`` opens (and nothing else on that host)."""

    address: IPAddress
    port: int

    def __str__(self) -> str:
        if isinstance(self.address, IPv6Address):
            return f"[{self.address}]:{self.port}"
        return f"{self.address}:{self.port}"


def parse_allow_entry(entry: str) -> IPNetwork | AllowedEndpoint:
    """Parse one ``allow_networks`` entry strictly; raise ``ValueError`` naming the entry."""
    if not isinstance(entry, str):
        raise ValueError(f"allow_networks entry {entry!r} is not a string; {_ENTRY_HINT}")
    if not entry or entry != entry.strip() or any(ch.isspace() for ch in entry):
        raise ValueError(f"allow_networks entry {entry!r} is empty or contains spaces")
    if "%" in entry:
        raise ValueError(f"allow_networks entry {entry!r} has a zone index; leave it out")
    if "/" in entry:
        try:
            return ipaddress.ip_network(entry, strict=True)
        except ValueError as error:
            raise ValueError(
                f"allow_networks entry {entry!r} is not a valid CIDR network ({error}); "
                f"{_ENTRY_HINT}"
            ) from None
    try:
        bare = ipaddress.ip_address(entry)
    except ValueError:
        pass
    else:
        width = 32 if isinstance(bare, IPv4Address) else 128
        example = f"[{bare}]:PORT" if isinstance(bare, IPv6Address) else f"{bare}:PORT"
        raise ValueError(
            f"allow_networks entry {entry!r} is a bare address; write {bare}/{width} to allow "
            f"every port on it, or {example} to allow one port"
        )
    bracketed = _BRACKETED_ENDPOINT_PATTERN.fullmatch(entry)
    if bracketed is not None:
        host, port_text = bracketed.groups()
        address: IPAddress = _parse_entry_address(entry, host, IPv6Address)
    elif entry.count(":") == 1:
        host, port_text = entry.split(":")
        address = _parse_entry_address(entry, host, IPv4Address)
    else:
        raise ValueError(
            f"allow_networks entry {entry!r} is neither a network nor an "
            f"address:port; {_ENTRY_HINT}"
        )
    return AllowedEndpoint(address, _parse_entry_port(entry, port_text))


def _parse_entry_address(
    entry: str, host: str, kind: type[IPv4Address] | type[IPv6Address]
) -> IPAddress:
    try:
        return kind(host)
    except ValueError:
        version = "IPv4" if kind is IPv4Address else "IPv6"
        raise ValueError(
            f"allow_networks entry {entry!r}: {host!r} is not an {version} address "
            f"(hostnames are not accepted); {_ENTRY_HINT}"
        ) from None


def _parse_entry_port(entry: str, port_text: str) -> int:
    if _PORT_PATTERN.fullmatch(port_text) is None or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"allow_networks entry {entry!r}: port {port_text!r} is not 1-65535")
    return int(port_text)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Public unicast addresses are allowed; others only through ``allow_networks`` entries."""

    networks: tuple[IPNetwork, ...] = ()
    endpoints: frozenset[AllowedEndpoint] = frozenset()

    @classmethod
    def from_entries(cls, entries: Iterable[str]) -> AddressPolicy:
        """Build a policy from ``allow_networks`` strings; ``ValueError`` on a bad entry."""
        if isinstance(entries, str):
            raise ValueError("allow_networks must be a list of entries, not a single string")
        networks: list[IPNetwork] = []
        endpoints: set[AllowedEndpoint] = set()
        for entry in entries:
            parsed = parse_allow_entry(entry)
            if isinstance(parsed, AllowedEndpoint):
                endpoints.add(AllowedEndpoint(unmap_address(parsed.address), parsed.port))
            else:
                networks.append(parsed)
        return cls(tuple(networks), frozenset(endpoints))

    def refusal_reason(self, address: IPAddress, port: int) -> str | None:
        """Say why dialling ``address``:``port`` is refused, or return ``None`` to allow it."""
        plain = unmap_address(address)
        if any(candidate in network for network in self.networks for candidate in (address, plain)):
            return None
        if AllowedEndpoint(plain, port) in self.endpoints:
            return None
        reason = classify_address(address)
        if reason is None:
            return None
        open_ports = sorted(e.port for e in self.endpoints if e.address == plain)
        if open_ports:
            ports = ", ".join(str(p) for p in open_ports)
            return f"{reason} (allow_networks opens only port {ports} there, not {port})"
        return reason


def parse_legacy_ipv4(host: str) -> IPv4Address | None:
    """Read ``host`` as an IPv4 address the way browsers (WHATWG URL) do.

    Accepts dotted quads and the legacy forms ``127.1``, ``2130706433``, ``0x7f000001`` and
    ``0177.0.0.1``. Returns ``None`` when ``host`` is an ordinary name (its last label is not a
    number); raises ``ValueError`` when it looks numeric but is no valid address.
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    last = parts[-1] if parts else ""
    if not last or (not (last.isascii() and last.isdigit()) and _parse_ipv4_part(last) is None):
        return None
    numbers = [_parse_ipv4_part(part) for part in parts]
    if len(numbers) > 4 or any(number is None for number in numbers):
        raise ValueError(f"{host!r} looks like an IPv4 address but is not one")
    values = [number for number in numbers if number is not None]
    if any(value > 255 for value in values[:-1]) or values[-1] >= 256 ** (5 - len(values)):
        raise ValueError(f"{host!r} is an IPv4 address with a part out of range")
    total = values[-1]
    for index, value in enumerate(values[:-1]):
        total += value * 256 ** (3 - index)
    return IPv4Address(total)


def _parse_ipv4_part(part: str) -> int | None:
    if part[:2].lower() == "0x":
        digits, base = part[2:], 16
        allowed = "0123456789abcdefABCDEF"
    elif len(part) > 1 and part.startswith("0"):
        digits, base = part[1:], 8
        allowed = "01234567"
    else:
        digits, base = part, 10
        allowed = "0123456789"
        if not digits:
            return None
    if any(ch not in allowed for ch in digits):
        return None
    return int(digits, base) if digits else 0


def is_valid_hostname(host: str) -> bool:
    """True for an ASCII (already IDNA-encoded) DNS name: labels of ``a-z 0-9 - _``."""
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return False
    return all(_HOST_LABEL_PATTERN.fullmatch(label) for label in name.split("."))
