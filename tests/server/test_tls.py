"""HTTPS with --tls-cert/--tls-key, using a self-signed certificate made for the test."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import requests

if TYPE_CHECKING:
    from tests.server.conftest import CollectorProcess

x509 = pytest.importorskip("cryptography.x509", reason="the test extra installs cryptography")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_it_serves_https_with_the_given_certificate(
    tmp_path: Path, sqlite_url: str, start_collector: Callable[..., CollectorProcess]
) -> None:
    cert, key = _self_signed(tmp_path)

    running = start_collector(
        "--db", sqlite_url, "--tls-cert", str(cert), "--tls-key", str(key),
        scheme="https", verify=str(cert),
    )  # fmt: skip
    client = running.collector
    enrolled = client.enroll_ok()
    login = client.http.post(
        client.url("/login"), data={"token": client.admin_token}, verify=str(cert), timeout=10
    )

    assert enrolled["device_id"]
    assert "Secure" in login.history[0].headers["set-cookie"]
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(client.url("/healthz"), timeout=5)  # not trusted without the cert
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(client.url("/healthz").replace("https:", "http:"), timeout=5)


def test_an_unusable_certificate_is_a_clear_error(
    tmp_path: Path, run_serve: Callable[..., object]
) -> None:
    (tmp_path / "cert.pem").write_text("not a certificate", encoding="utf-8")
    (tmp_path / "key.pem").write_text("not a key", encoding="utf-8")
    options = ["--tls-cert", str(tmp_path / "cert.pem"), "--tls-key", str(tmp_path / "key.pem")]

    done = run_serve("--db", f"sqlite:///{tmp_path / 'c.sqlite'}", *options)

    assert done.returncode == 2  # type: ignore[attr-defined]
    assert "cannot load the TLS certificate" in done.stderr  # type: ignore[attr-defined]
