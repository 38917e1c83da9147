"""A local RFC 3161 time-stamping authority on loopback, with its own test CA.

Built with cryptography (keys, certificates, signatures) and asn1crypto (the
ASN.1 structures), so the tests need no network. ``TestTsa.mode`` makes it
misbehave on purpose: "tamper", "wrong-imprint", "refuse", "wrong-nonce", "garbage".
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def root_certificate(key: Any, name: str, now: datetime) -> x509.Certificate:
    """A self-signed CA certificate for ``key`` (cert and CRL signing), valid ten years."""
    return (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(_name(name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


class TestCa:
    """A root CA and a TSA certificate it issued (RSA 2048, SHA-256)."""

    __test__ = False

    def __init__(self, name: str = "Evidence Test Root CA", eku: bool = True) -> None:
        now = datetime.now(UTC)
        self.root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.root = root_certificate(self.root_key, name, now)
        self.tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("Evidence Test TSA"))
            .issuer_name(self.root.subject)
            .public_key(self.tsa_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                critical=True,
            )
        )
        if eku:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True
            )
        self.tsa_cert = builder.sign(self.root_key, hashes.SHA256())

    @property
    def root_pem(self) -> bytes:
        return self.root.public_bytes(serialization.Encoding.PEM)

    def token(self, imprint: bytes, nonce: int | None, serial: int = 1) -> bytes:
        """A DER TimeStampToken (CMS SignedData over a TSTInfo) for a SHA-256 imprint."""
        der = self.tsa_cert.public_bytes(serialization.Encoding.DER)
        tsa_asn1 = asn1_x509.Certificate.load(der)
        tst = {
            "version": "v1",
            "policy": "1.3.6.1.4.1.99999.1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": imprint,
            },
            "serial_number": serial,
            "gen_time": datetime.now(UTC).replace(microsecond=0),
            "tsa": asn1_x509.GeneralName(name="directory_name", value=tsa_asn1.subject),
        }
        if nonce is not None:
            tst["nonce"] = nonce
        tst_der = tsp.TSTInfo(tst).dump()
        attrs = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "message_digest", "values": [hashlib.sha256(tst_der).digest()]},
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        {
                            "certs": [
                                {
                                    "hash_algorithm": {"algorithm": "sha256"},
                                    "cert_hash": hashlib.sha256(tsa_asn1.dump()).digest(),
                                }
                            ]
                        }
                    ],
                },
            ]
        )
        signature = self.tsa_key.sign(attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
        signed = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {
                    "content_type": "tst_info",
                    "content": core.ParsableOctetString(tst_der),
                },
                "certificates": [tsa_asn1],
                "signer_infos": [
                    {
                        "version": "v1",
                        "sid": {
                            "issuer_and_serial_number": {
                                "issuer": tsa_asn1.issuer,
                                "serial_number": tsa_asn1.serial_number,
                            }
                        },
                        "digest_algorithm": {"algorithm": "sha256"},
                        "signed_attrs": attrs,
                        "signature_algorithm": {"algorithm": "sha256_rsa"},
                        "signature": signature,
                    }
                ],
            }
        )
        return cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump()


class TestTsa:
    """An HTTP TSA on 127.0.0.1 answering RFC 3161 requests with :class:`TestCa` tokens."""

    __test__ = False

    def __init__(self, ca: TestCa) -> None:
        self.ca = ca
        self.mode = "ok"
        self.requests = 0
        self.serial = 0
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                reply = tsa.answer(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tsa"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, body: bytes) -> bytes:
        self.requests += 1
        if self.mode == "garbage":
            return b"not a timestamp response"
        if self.mode == "refuse":
            status = tsp.PKIStatusInfo(
                {"status": "rejection", "status_string": ["policy not accepted"]}
            ).dump()
            return b"\x30" + bytes([len(status)]) + status  # a TimeStampResp without a token
        request = tsp.TimeStampReq.load(body)
        imprint = request["message_imprint"]["hashed_message"].native
        nonce = request["nonce"].native
        if self.mode == "wrong-imprint":
            imprint = hashlib.sha256(b"something else").digest()
        if self.mode == "wrong-nonce":
            nonce = (nonce or 0) + 1
        self.serial += 1
        token = self.ca.token(imprint, nonce, self.serial)
        if self.mode == "tamper":
            token = tamper_token(token)
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": cms.ContentInfo.load(token)}
        ).dump()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def tamper_token(token: bytes) -> bytes:
    """Change one byte of the TSTInfo's serial number inside a token (keeps it parseable)."""
    info = cms.ContentInfo.load(token)
    content = info["content"]["encap_content_info"]["content"].contents
    tst_offset = token.index(content)
    tst = tsp.TSTInfo.load(content)
    serial = tst["serial_number"].dump()
    at = tst_offset + content.index(serial) + len(serial) - 1
    return token[:at] + bytes([token[at] ^ 0x01]) + token[at + 1 :]


@pytest.fixture(scope="session")
def tsa_ca() -> TestCa:
    return TestCa()


@pytest.fixture
def tsa(tsa_ca: TestCa) -> Iterator[TestTsa]:
    server = TestTsa(tsa_ca)
    try:
        yield server
    finally:
        server.close()
