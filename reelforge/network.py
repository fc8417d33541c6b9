"""Outbound connections that may only reach public addresses (server-side request forgery).

Shared by webhooks and stock-media downloads: an IP literal in any spelling is recognised
without a resolver, a name is resolved once and every address it gives is checked (including
IPv4 carried inside IPv6: mapped, 6to4, Teredo, NAT64), and the connection goes to the checked
address, so a name that changes its answer between check and connect gains nothing.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 NAT64, the
# deprecated IPv4-compatible form): `is_global` judges the IPv6 prefix, not the address inside.
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded(address: Address) -> list[Address]:
    """The address and every IPv4 address carried inside it (mapped, 6to4, Teredo, NAT64)."""
    found: list[Address] = [address]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            found.append(address.ipv4_mapped)
        if address.sixtofour is not None:
            found.append(address.sixtofour)
        if address.teredo is not None:
            found.extend(address.teredo)
        if any(address in network for network in (*_NAT64, _COMPATIBLE)):
            found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def is_public(address: Address) -> bool:
    """True when ``address`` and any IPv4 address inside it are globally routable unicast."""
    return all(
        part.is_global and not part.is_multicast and not part.is_unspecified
        for part in _embedded(address)
    )


def literal_address(host: str) -> Address | None:
    """``host`` as an IP address when it is one, in any form a resolver would also accept
    (``127.1``, ``0x7f000001``, ``2130706433``), without asking a resolver."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def is_local_name(host: str) -> bool:
    """``localhost`` and its subdomains, which resolvers answer with loopback."""
    host = host.rstrip(".").lower()
    return host == "localhost" or host.endswith(".localhost")


def addresses(host: str, port: int) -> list[Address]:
    """Every address ``host`` stands for: itself when a literal, else the resolver's answers
    (``OSError`` when the name does not resolve)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
    if not found:
        raise OSError("no address")
    return found


def connection(
    scheme: str, host: str, port: int, address: str, timeout_s: float
) -> http.client.HTTPConnection:
    """An HTTP(S) connection to ``host`` (Host header, TLS SNI and certificate name) that
    opens its socket to ``address`` only."""
    kind = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
    opened = kind(host, port, timeout=timeout_s)

    def pinned(_where: Any, timeout: Any = None, source: Any = None) -> socket.socket:
        return socket.create_connection((address, port), timeout, source)

    # http.client opens sockets through this attribute (both plain and TLS connections).
    opened._create_connection = pinned  # type: ignore[attr-defined]
    return opened


class RefusedAddress(OSError):
    """A URL whose host is not public while private addresses are not allowed."""


def checked_target(url: str, allow_private: bool) -> tuple[str, str, int, str, str]:
    """``(scheme, host, port, address, path)`` of an http(s) URL, its host resolved once and,
    unless ``allow_private``, every address checked (:class:`RefusedAddress`)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedAddress(f"not an http(s) URL: {url[:200]!r}")
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not allow_private and is_local_name(host):
        raise RefusedAddress(f"{host} is not a public host")
    found = addresses(host, port)
    if not allow_private and not all(is_public(a) for a in found):
        raise RefusedAddress(f"{host} is not a public host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port, str(found[0]), path


@dataclass(frozen=True)
class Fetched:
    """What a GET brought back: status, headers (lower-case names) and at most the cap."""

    status: int
    headers: dict[str, str]
    body: bytes


def get(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    timeout_s: float = 30.0,
    max_bytes: int = 4 << 20,
    allow_private: bool = False,
    sink: BinaryIO | None = None,
    redirects: int = 3,
) -> Fetched:
    """GET ``url`` through :func:`checked_target`, following up to ``redirects`` redirects
    (each target checked again). The body goes to ``sink`` when given (``body`` is then
    empty), else into memory; more than ``max_bytes`` raises :class:`ValueError`."""
    for _ in range(redirects + 1):
        scheme, host, port, address, path = checked_target(url, allow_private)
        opened = connection(scheme, host, port, address, timeout_s)
        try:
            opened.request("GET", path, headers={"User-Agent": "reelforge", **(headers or {})})
            response = opened.getresponse()
            answer = {name.lower(): value for name, value in response.getheaders()}
            if response.status in (301, 302, 303, 307, 308) and "location" in answer:
                url = urljoin(url, answer["location"])
                continue
            body = _read(response, max_bytes, sink)
            return Fetched(response.status, answer, body)
        finally:
            with contextlib.suppress(Exception):
                opened.close()
    raise OSError(f"more than {redirects} redirects")


def _read(response: http.client.HTTPResponse, max_bytes: int, sink: BinaryIO | None) -> bytes:
    declared = response.getheader("Content-Length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise ValueError(f"the answer holds {int(declared)} bytes, more than {max_bytes}")
    kept: list[bytes] = []
    total = 0
    while chunk := response.read(1 << 16):
        total += len(chunk)
        if total > max_bytes:
            raise ValueError(f"the answer holds more than {max_bytes} bytes")
        if sink is not None:
            sink.write(chunk)
        else:
            kept.append(chunk)
    return b"".join(kept)
