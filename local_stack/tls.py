"""A self-signed certificate for the local HTTPS listener, kept between runs while it stays valid.

The official SDKs only speak https: point them (or ``REQUESTS_CA_BUNDLE``) at ``cert.pem``.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
DNS_NAMES = ("localhost",)
IP_ADDRESSES = ("127.0.0.1",)
VALIDITY = timedelta(days=365)
RENEW_BEFORE = timedelta(days=1)


@dataclass(frozen=True)
class TlsFiles:
    cert_path: Path
    key_path: Path


def ensure_certificate(directory: Path, now: datetime | None = None) -> TlsFiles:
    """``cert.pem`` and ``key.pem`` in ``directory``: reused if they are valid for the local names, else made anew."""
    now = now or datetime.now(timezone.utc)
    files = TlsFiles(directory / CERT_FILE, directory / KEY_FILE)
    if not certificate_is_usable(files, now):
        write_certificate(files, now)
    return files


def _wanted_names() -> set[x509.GeneralName]:
    names: set[x509.GeneralName] = {x509.DNSName(name) for name in DNS_NAMES}
    names |= {x509.IPAddress(ipaddress.ip_address(ip)) for ip in IP_ADDRESSES}
    return names


def certificate_is_usable(files: TlsFiles, now: datetime) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(files.cert_path.read_bytes())
        key = serialization.load_pem_private_key(files.key_path.read_bytes(), password=None)
        names = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except (OSError, ValueError, TypeError, x509.ExtensionNotFound):
        return False
    same_key = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    in_validity = cert.not_valid_before_utc <= now and now + RENEW_BEFORE < cert.not_valid_after_utc
    return same_key and in_validity and _wanted_names() <= names


def write_certificate(files: TlsFiles, now: datetime) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Switchboard local stack")])
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(sorted(_wanted_names(), key=str)), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_encipherment=False,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )
    files.cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write_private(files.key_path, key_pem)
    files.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _write_private(path: Path, data: bytes) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
