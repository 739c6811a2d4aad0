"""Host names and addresses as an HTTP client would read them, and which addresses are internal.

Two jobs, both pure:

* :func:`split_authority` and :func:`canonical_host` turn the ``host[:port]`` of a URL into one
  canonical spelling, strictly: every numeric spelling of an IPv4 address that the C library
  accepts (``2130706433``, ``0x7f.1``, ``0177.0.0.1``, ``127.1``) becomes the dotted quad it
  means, so a check never compares spellings; a name is lower-cased, loses one trailing dot and
  is IDNA-encoded; anything doubtful (an empty label, a broken ``xn--`` label, an IPv6 zone, a
  numeric-looking host that is not a valid address) is refused with :class:`ValueError` rather
  than handed to a resolver that might read it differently.
* :func:`address_problem` says why an address may not be fetched from, looking through the
  IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo), because a
  connection to ``::ffff:127.0.0.1`` lands on loopback whatever its IPv6 properties say.
"""

from __future__ import annotations

import ipaddress
import re

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
_NUMBER = re.compile(r"0x[0-9a-f]*|[0-9]+")
_PORT = re.compile(r"[0-9]{1,5}")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # the well-known prefix (RFC 6052)
_COMPATIBLE = ipaddress.ip_network("::/96")


def split_authority(netloc: str, *, default_port: int) -> tuple[str, IPAddress | None, int]:
    """The canonical host, its address when the host is an address literal, and the port.

    ``netloc`` must hold no user information (the policy refuses those before). An IPv6
    literal must be bracketed and have no zone (``%eth0``: meaningless off this machine).

    Raises
    ------
    ValueError
        When any part is malformed; the message says which, for the log.
    """
    if netloc.startswith("["):
        end = netloc.find("]")
        if end < 0:
            raise ValueError("an IPv6 address without its closing bracket")
        literal, rest = netloc[1:end], netloc[end + 1 :]
        if "%" in literal:
            raise ValueError("an IPv6 address with a zone")
        try:
            address: IPAddress = ipaddress.IPv6Address(literal)
        except ValueError as exc:
            raise ValueError(f"not an IPv6 address: {exc}") from None
        if rest and not rest.startswith(":"):
            raise ValueError("text after the IPv6 address")
        return str(address), address, _port(rest[1:], default_port)
    host, colon, port = netloc.rpartition(":")
    if not colon:
        host, port = netloc, ""
    if "[" in host or "]" in host or ":" in host:
        raise ValueError("a bracket or colon in the host")
    name, literal_address = canonical_host(host)
    return name, literal_address, _port(port, default_port)


def _port(text: str, default: int) -> int:
    if not text:
        return default
    if not _PORT.fullmatch(text) or not 0 < int(text) < 65536:
        raise ValueError("the port is not a number from 1 to 65535")
    return int(text)


def canonical_host(host: str) -> tuple[str, IPAddress | None]:
    """One spelling of a host name or IPv4 address (not bracketed IPv6: see above).

    A host whose last label is a number is an IPv4 address or nothing (the WHATWG URL
    standard's rule, and what ``getaddrinfo`` does with it): no top-level domain is numeric,
    and passing ``1.2.3.4.5`` to a resolver would leave its meaning to the resolver.
    Non-ASCII names are encoded with the standard library's IDNA 2003 codec; ``xn--`` labels
    must decode and encode back to themselves.

    Raises
    ------
    ValueError
        When the host is empty, too long, or not a valid name or address.
    """
    if host.endswith("."):
        host = host[:-1]
    if not host:
        raise ValueError("no host")
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"not a valid international name: {exc}") from None
    host = host.lower()
    labels = host.split(".")
    if _NUMBER.fullmatch(labels[-1]):
        address = ipv4_from_parts(labels)
        return str(address), address
    if len(host) > 253:
        raise ValueError("a host name longer than 253 characters")
    for label in labels:
        if not _LABEL.fullmatch(label):
            raise ValueError("a host name label that is empty, too long or not letters/digits")
        if label.startswith("xn--"):
            _check_a_label(label)
    return host, None


def _check_a_label(label: str) -> None:
    try:
        unicode = label.encode("ascii").decode("idna")
        if unicode.encode("idna").decode("ascii") != label:
            raise UnicodeError("does not round-trip")
    except UnicodeError as exc:
        raise ValueError(f"a malformed IDNA label: {exc}") from None


def ipv4_from_parts(parts: list[str]) -> ipaddress.IPv4Address:
    """The IPv4 address that ``inet_aton`` reads in 1 to 4 numeric parts.

    Each part is decimal, octal (a leading ``0``) or hexadecimal (``0x``); the last part
    fills the bytes left, so ``127.1`` is 127.0.0.1 and ``2130706433`` is too. This is what
    glibc's resolver and curl do, so the check sees the address the connection would reach.

    Raises
    ------
    ValueError
        When a part is not a number in its base or a value does not fit.
    """
    if not 1 <= len(parts) <= 4:
        raise ValueError("a numeric host with more than 4 parts")
    values: list[int] = []
    for part in parts:
        if not _NUMBER.fullmatch(part) or part == "0x":
            raise ValueError("a numeric host with a part that is not a number")
        if part.startswith("0x"):
            values.append(int(part[2:], 16))
        elif len(part) > 1 and part.startswith("0"):
            if any(c in "89" for c in part):
                raise ValueError("a numeric host with a bad octal part")
            values.append(int(part, 8))
        else:
            values.append(int(part))
    *leading, last = values
    if any(v > 255 for v in leading) or last >= 256 ** (5 - len(values)):
        raise ValueError("a numeric host whose parts do not fit an IPv4 address")
    number = last
    for index, value in enumerate(leading):
        number |= value << (8 * (3 - index))
    return ipaddress.IPv4Address(number)


def _wrapped_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address of an IPv6 form that is only a way of writing it: mapped
    (``::ffff:a.b.c.d``), compatible (``::a.b.c.d``, not ``::`` or ``::1``) or NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64 or (address in _COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def embedded_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries and a packet to it may reach (also 6to4's
    and Teredo's, which are routed through a relay to the IPv4 address they carry)."""
    if isinstance(address, ipaddress.IPv4Address):
        return ()
    found = [_wrapped_ipv4(address), address.sixtofour, *(address.teredo or ())]
    return tuple(a for a in found if a is not None)


def address_problem(address: IPAddress, *, internal_ok: bool) -> str | None:
    """Why ``address`` may not be fetched from, or ``None`` when it may.

    Never allowed, whatever ``internal_ok`` says: unspecified (``0.0.0.0`` connects to this
    machine), multicast, reserved and link-local addresses (169.254.169.254 is the cloud
    metadata service, which hands out credentials: no media host lives there). With
    ``internal_ok`` False (public fetching) an address must also be globally reachable by the
    standard library's tables: this refuses loopback, the private ranges, unique-local
    ``fc00::/7``, carrier-grade NAT ``100.64.0.0/10`` and the documentation and benchmark
    ranges. IPv6 forms that carry an IPv4 address are judged by what they carry too; the
    mapped, compatible and NAT64 forms only by that, since their IPv6 wrapper is no place of
    its own (and ``ipaddress`` calls it reserved or global depending on the Python version).
    """
    for inner in embedded_ipv4(address):
        problem = address_problem(inner, internal_ok=internal_ok)
        if problem is not None:
            return f"{problem} ({inner} inside)"
    if isinstance(address, ipaddress.IPv6Address) and _wrapped_ipv4(address) is not None:
        return None
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address.is_link_local:
        return "link-local"
    if address.is_loopback:  # before reserved: ::1 lies in the reserved ::/8
        return None if internal_ok else "loopback"
    if address.is_reserved:
        return "reserved"
    if internal_ok:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "site-local"  # deprecated fec0::/10, which ipaddress counts as global
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not globally reachable"
    return None
