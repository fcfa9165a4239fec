"""HTTPS for tools that insist on it: a throwaway test CA, a server certificate it signs for
`*.myshopify.com` (and `localhost`, `127.0.0.1`), and serving one app on a plain and a TLS port.

Tools trust the CA through `SSL_CERT_FILE` (urllib) and `REQUESTS_CA_BUNDLE` (requests); a
`sitecustomize.py` that resolves `*.myshopify.com` to 127.0.0.1 and the TLS port does the rest
(peer-notes 4a). The CA's private key never touches the disk; the server key is written only to
a private directory that lives as long as the server.
"""

import asyncio
import contextlib
import ipaddress
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from starlette.types import ASGIApp

SERVER_NAMES = ("*.myshopify.com", "myshopify.com", "localhost")
SERVER_ADDRESSES = ("127.0.0.1",)
VALIDITY = timedelta(days=30)
CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False, content_commitment=False, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
    encipher_only=False, decipher_only=False,
)  # fmt: skip


@dataclass(frozen=True)
class ServerCertificate:
    """Where the server's certificate and key are, and the CA certificate clients should trust."""

    ca_cert: Path
    cert: Path
    key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ShelfOps sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def issue_server_certificate(ca_cert_path: Path, key_dir: Path) -> ServerCertificate:
    """Make a fresh CA and a server certificate; write the CA cert, the cert and its key."""
    now = datetime.now(UTC) - timedelta(minutes=5)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("ShelfOps sandbox test CA")
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(name) for name in SERVER_NAMES]
    names += [x509.IPAddress(ipaddress.ip_address(address)) for address in SERVER_ADDRESSES]
    ca_key_id = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(SERVER_NAMES[0]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_key_id), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_cert_path.parent.mkdir(parents=True, exist_ok=True)
    ca_cert_path.write_bytes(_pem(ca_cert))
    cert_path, key_path = key_dir / "server.pem", key_dir / "server.key"
    cert_path.write_bytes(_pem(server_cert))
    key_bytes = server_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as key_file:
        key_file.write(key_bytes)
    return ServerCertificate(ca_cert_path, cert_path, key_path)


@contextlib.contextmanager
def server_certificate(ca_cert_path: Path) -> Iterator[ServerCertificate]:
    """A fresh server certificate whose key is deleted when the block ends."""
    with tempfile.TemporaryDirectory(prefix="shelfops-sandbox-tls-") as key_dir:
        yield issue_server_certificate(ca_cert_path, Path(key_dir))


def serve_plain_and_tls(
    app: ASGIApp,
    port: int,
    tls_port: int,
    certificate: ServerCertificate,
    log_level: str,
    access_log: bool,
) -> None:
    """Serve `app` on 127.0.0.1 over HTTP on `port` and HTTPS on `tls_port` until interrupted.

    One event loop runs both; only the plain server runs the app's lifespan, so live webhooks
    are sent once.
    """
    common: dict[str, Any] = {"host": "127.0.0.1", "log_level": log_level, "access_log": access_log}
    configs: Sequence[uvicorn.Config] = (
        uvicorn.Config(app, port=port, **common),
        uvicorn.Config(
            app,
            port=tls_port,
            lifespan="off",
            ssl_certfile=str(certificate.cert),
            ssl_keyfile=str(certificate.key),
            **common,
        ),
    )

    async def serve_all() -> None:
        await asyncio.gather(*(uvicorn.Server(config).serve() for config in configs))

    # uvicorn re-raises the signal that stopped it once every server has shut down.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_all())
