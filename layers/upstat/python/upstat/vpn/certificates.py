"""Certificates of VPN clients and servers, for expiry tracking: PEM in (an upload, or files a scheduled job
reads), what matters kept (subject, issuer, serial, validity), never the certificate or a key.

Parsed with the ``cryptography`` package, imported only here (it costs a cold start nothing elsewhere).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from upstat.errors import InvalidInput
from upstat.names import check_name
from upstat.timeseries import timemath as tm
from upstat.vpn.store import Certificate, VpnStore

PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True, slots=True)
class Expiry:
    """Whole days left before ``not_after`` (negative once expired; a part of a day left counts as a day,
    so a certificate expiring later today has 1 day left), and whether it has expired."""

    certificate: Certificate
    days_remaining: int
    expired: bool


def read_pem(body: bytes, *, file: str, now: int) -> Certificate:
    """The first certificate of a PEM file (a chain's leaf comes first), or 400 saying why not."""
    from cryptography import x509

    check_name(file, "file")
    if PEM_BEGIN not in body:
        raise InvalidInput(f"body: {file} holds no PEM certificate ({PEM_BEGIN.decode()})", field="body")
    try:
        cert = x509.load_pem_x509_certificates(body)[0]
    except ValueError as exc:
        raise InvalidInput(f"body: {file} is not a readable PEM certificate ({exc})", field="body") from None
    return Certificate(
        file=file,
        subject=cert.subject.rfc4514_string(),
        issuer=cert.issuer.rfc4514_string(),
        serial=format(cert.serial_number, "x"),
        not_before=int(cert.not_valid_before_utc.timestamp() * 1000),
        not_after=int(cert.not_valid_after_utc.timestamp() * 1000),
        uploaded=now,
    )


def store_pem(store: VpnStore, body: bytes, *, file: str, now: int) -> Certificate:
    cert = read_pem(body, file=file, now=now)
    store.put_certificate(cert)
    return cert


def expiry(cert: Certificate, now: int) -> Expiry:
    left = (cert.not_after - now) / tm.DAY
    return Expiry(cert, math.ceil(left) if left > 0 else math.floor(left), cert.not_after <= now)


def expiries(store: VpnStore, now: int) -> list[Expiry]:
    """Every stored certificate, soonest expiry first."""
    return sorted(
        (expiry(c, now) for c in store.certificates()),
        key=lambda e: (e.certificate.not_after, e.certificate.file),
    )
