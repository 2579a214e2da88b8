"""Audit PDFs signed with the deployment's certificate, and the check of a signature against a
pinned certificate.

Signing is the last step of every PDF export: a PAdES B-B signature (pyHanko; ETSI.CAdES.detached,
SHA-256) in a hidden signature field, certifying the document with "no changes allowed", whose
byte range covers the whole file. There is no timestamp authority (DTPA runs offline): the
signing time is the one the signer states, inside the signed bytes.

The certificate is the trust's own when one is configured (DTPA_PDF_SIGNING_PKCS12, or
DTPA_PDF_SIGNING_KEY with DTPA_PDF_SIGNING_CERT), else a self-signed one that DTPA makes in
DTPA_KEY_DIR the first time it signs (pdf-signing.key.pem, owner-only, and pdf-signing.cert.pem).
It is never made again over a half-present pair: a missing key or certificate is an error that
names the file to restore. Certificates a deployment used before are kept in
`pdf-signing-previous/` in the key folder, so the PDFs they signed still verify.

pyHanko is imported where it is used: it adds a quarter of a second to every command otherwise.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import io
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from engine.errors import SigningUnavailable
from engine.settings import settings

KEY_FILE = "pdf-signing.key.pem"
CERT_FILE = "pdf-signing.cert.pem"
PREVIOUS = "pdf-signing-previous"  # certificates used before (*.pem), still pinned
FIELD = "DTPASignature"
SUBJECT = "DTPA audit PDF signing (self-signed)"
REASON = "DTPA export: any change after signing invalidates this signature"
VALIDITY = dt.timedelta(days=366 * 25)  # longer than records are kept; verified at signing time
KEY_USAGES = {"digital_signature", "non_repudiation"}  # either will do
_WAIT_FOR_PEER = 5.0  # seconds another process may take to finish making the certificate

_T = TypeVar("_T")


@dataclass(frozen=True)
class SigningIdentity:
    """The key and certificate a deployment signs with (`signer` is pyHanko's SimpleSigner)."""

    signer: Any
    certificate: x509.Certificate
    source: str  # where it came from, for messages and the audit event
    created: bool = False  # made by this call (the first signed export)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    def describe(self) -> dict[str, str]:
        return {"certificate_sha256": self.fingerprint,
                "subject": self.certificate.subject.rfc4514_string(),
                "not_after": self.certificate.not_valid_after_utc.isoformat(),
                "source": self.source}


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER bytes, in hex (as `openssl x509 -fingerprint -sha256`
    prints it, without the colons)."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def certificate_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


# --- the deployment's signing identity ----------------------------------------------------------

def deployment_identity(create: bool = True) -> SigningIdentity:
    """The configured key and certificate, else the self-signed pair in the key folder, made now
    if neither file exists yet (create=False: an error instead)."""
    config = settings()
    passphrase = (config.pdf_signing_passphrase.get_secret_value().encode()
                  if config.pdf_signing_passphrase else None)
    if config.pdf_signing_pkcs12:
        return _from_pkcs12(config.pdf_signing_pkcs12, passphrase)
    if config.pdf_signing_key or config.pdf_signing_cert:
        if not (config.pdf_signing_key and config.pdf_signing_cert):
            raise SigningUnavailable("DTPA_PDF_SIGNING_KEY and DTPA_PDF_SIGNING_CERT go together: "
                                     "set both, or use DTPA_PDF_SIGNING_PKCS12")
        return _from_pem(config.pdf_signing_key, config.pdf_signing_cert, passphrase)
    return _self_signed(config.key_dir, create)


def pinned_certificates(given: Path | None = None) -> list[x509.Certificate]:
    """The certificates a signature must chain to: those in `given` (a PEM or DER file, for a
    DPO checking elsewhere), else the deployment's current certificate and any it used before.
    Nothing is made here: a deployment that never signed has none."""
    if given is not None:
        certs = _read_certificates(given)
        if not certs:
            raise SigningUnavailable(f"{given}: no certificate in it (expected PEM or DER)")
        return certs
    config = settings()
    pinned: list[x509.Certificate] = []
    if config.pdf_signing_pkcs12 or config.pdf_signing_key or config.pdf_signing_cert:
        if config.pdf_signing_cert and not config.pdf_signing_pkcs12:
            pinned.append(_read_certificates(config.pdf_signing_cert)[0])
        else:
            pinned.append(deployment_identity(create=False).certificate)
    elif (config.key_dir / CERT_FILE).is_file():
        pinned += _read_certificates(config.key_dir / CERT_FILE)[:1]
    previous = config.key_dir / PREVIOUS
    if previous.is_dir():
        for path in sorted(previous.glob("*.pem")):
            pinned += _read_certificates(path)
    return pinned


def _read(path: Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise SigningUnavailable(f"cannot read the {what} {path}: {exc.strerror or exc}") from None


def _read_certificates(path: Path) -> list[x509.Certificate]:
    data = _read(path, "certificate")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        raise SigningUnavailable(f"{path} is not a PEM or DER certificate") from None


def _signer(key: Any, certificate: x509.Certificate, chain: list[x509.Certificate]) -> Any:
    """pyHanko's signer for a key and certificate (cryptography objects), after checking that
    they belong together."""
    from pyhanko.keys import load_certs_from_pemder_data, load_private_key_from_pemder_data
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    public = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*public) != certificate.public_key().public_bytes(*public):
        raise SigningUnavailable("the PDF signing key does not belong to its certificate")
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())

    def asn1(cert: x509.Certificate) -> Any:
        return next(iter(load_certs_from_pemder_data(cert.public_bytes(serialization.Encoding.DER))))

    registry = SimpleCertificateStore()  # type: ignore[no-untyped-call]  # pyHanko: untyped
    for cert in chain:
        registry.register(asn1(cert))
    return SimpleSigner(signing_cert=asn1(certificate),
                        signing_key=load_private_key_from_pemder_data(der, passphrase=None),
                        cert_registry=registry)


def _from_pkcs12(path: Path, passphrase: bytes | None) -> SigningIdentity:
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(
            _read(path, "PKCS#12 file"), passphrase)
    except (ValueError, TypeError):
        raise SigningUnavailable(f"{path}: not a PKCS#12 file, or DTPA_PDF_SIGNING_PASSPHRASE "
                                 "is wrong") from None
    if key is None or certificate is None:
        raise SigningUnavailable(f"{path} holds no private key and certificate")
    return SigningIdentity(_signer(key, certificate, list(chain)), certificate,
                           f"PKCS#12 file {path}")


def _from_pem(key_path: Path, cert_path: Path, passphrase: bytes | None) -> SigningIdentity:
    certs = _read_certificates(cert_path)
    try:
        key = serialization.load_pem_private_key(_read(key_path, "PDF signing key"), passphrase)
    except (ValueError, TypeError):
        raise SigningUnavailable(f"{key_path}: not a PEM private key, or "
                                 "DTPA_PDF_SIGNING_PASSPHRASE is wrong") from None
    return SigningIdentity(_signer(key, certs[0], certs[1:]), certs[0],
                           f"PEM key {key_path} and certificate {cert_path}")


def _self_signed(folder: Path, create: bool) -> SigningIdentity:
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if not key_path.exists() and not cert_path.exists():
        if not create:
            raise SigningUnavailable(f"no PDF signing certificate in {folder} yet: it is made "
                                     "with the first signed export")
        if _mint(folder):
            return _load_self_signed(key_path, cert_path, created=True)
    deadline = time.monotonic() + _WAIT_FOR_PEER
    while key_path.exists() != cert_path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # another process is making the pair right now
    if not key_path.exists():
        raise SigningUnavailable(
            f"the PDF signing key {key_path} is missing but its certificate is there: restore "
            f"the key from backup (a new one is never made over a certificate PDFs are pinned "
            f"to), or move {CERT_FILE} into {PREVIOUS}/ so a new pair is made")
    if not cert_path.exists():
        raise SigningUnavailable(f"the PDF signing certificate {cert_path} is missing beside its "
                                 "key: restore it from backup (or, if no PDF was ever signed with "
                                 "that key, delete it and a new pair is made)")
    return _load_self_signed(key_path, cert_path)


def _load_self_signed(key_path: Path, cert_path: Path, created: bool = False) -> SigningIdentity:
    if key_path.stat().st_mode & 0o077:
        raise SigningUnavailable(f"the PDF signing key {key_path} can be read by others: make it "
                                 f"owner-only (chmod 600 {key_path})")
    try:
        key = serialization.load_pem_private_key(_read(key_path, "PDF signing key"), None)
    except (ValueError, TypeError):
        raise SigningUnavailable(f"{key_path} is not an unencrypted PEM private key") from None
    certificate = _read_certificates(cert_path)[0]
    return SigningIdentity(_signer(key, certificate, []), certificate,
                           f"self-signed, in {cert_path.parent}", created)


def _mint(folder: Path) -> bool:
    """Make a P-256 key and its self-signed certificate in `folder` (0700, files 0600). False
    when another process made them first (theirs are used)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SUBJECT),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "DTPA deployment")])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    usage = x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                          data_encipherment=False, key_agreement=False, key_cert_sign=False,
                          crl_sign=False, encipher_only=False, decipher_only=False)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + VALIDITY)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(usage, critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    tag = uuid.uuid4().hex
    tmp_key, tmp_cert = folder / f".{KEY_FILE}.{tag}", folder / f".{CERT_FILE}.{tag}"
    try:
        _write_private(tmp_key, key_pem)
        _write_private(tmp_cert, certificate.public_bytes(serialization.Encoding.PEM))
        try:
            os.link(tmp_key, folder / KEY_FILE)  # claims the pair: fails if another was first
        except FileExistsError:
            return False
        os.replace(tmp_cert, folder / CERT_FILE)
        return True
    finally:
        tmp_key.unlink(missing_ok=True)
        tmp_cert.unlink(missing_ok=True)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


# --- signing and checking ------------------------------------------------------------------------

def sign_pdf(pdf: bytes, identity: SigningIdentity) -> bytes:
    """`pdf` signed as the last step (PAdES B-B, hidden field, certified: no changes allowed)."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign.fields import MDPPerm, SigFieldSpec, SigSeedSubFilter
    from pyhanko.sign.signers import PdfSignatureMetadata
    from pyhanko.sign.signers import sign_pdf as pyhanko_sign

    meta = PdfSignatureMetadata(field_name=FIELD, subfilter=SigSeedSubFilter.PADES,
                                md_algorithm="sha256", reason=REASON, certify=True,
                                docmdp_permissions=MDPPerm.NO_CHANGES, signer_key_usage=KEY_USAGES)
    def sign() -> bytes:
        out = pyhanko_sign(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=identity.signer,
                           new_field_spec=SigFieldSpec(FIELD))  # no box: an invisible field
        return bytes(out.getvalue())

    return _outside_event_loop(sign)


@dataclass
class SignatureCheck:
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    signer: str | None = None  # the signing certificate's subject
    fingerprint: str | None = None  # its SHA-256
    signed_at: dt.datetime | None = None  # as the signer states it (no timestamp authority)


def check_signature(data: bytes, pinned: list[x509.Certificate]) -> SignatureCheck:
    """Is `data` signed, over the whole file, unaltered since, by a pinned certificate (or one
    a pinned certificate issued)? Revocation is not checked (offline); the certificate is
    judged at the signing time the signature states."""
    result = SignatureCheck()
    with _quiet("pyhanko", "pyhanko_certvalidator"):  # what it logs becomes a finding here
        return _outside_event_loop(lambda: _check(data, pinned, result))


def _outside_event_loop(work: Callable[[], _T]) -> _T:
    """pyHanko's synchronous calls use asyncio.run(), which refuses to start inside a running
    event loop (a web server's, or a browser driver's in the same process): run them in a thread
    of their own, which has none."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


@contextlib.contextmanager
def _quiet(*names: str) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _check(data: bytes, pinned: list[x509.Certificate], result: SignatureCheck) -> SignatureCheck:
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception as exc:  # a hostile file fails in many ways; each means "not verified"
        result.problems.append(f"the signature cannot be read: {type(exc).__name__}")
        return result
    if not signatures:
        result.problems.append("the PDF is not signed: its signature was removed, or the file was "
                               "rewritten or made elsewhere")
        return result
    if len(signatures) > 1:
        result.problems.append(f"the PDF carries {len(signatures)} signatures, DTPA signs once: "
                               "something was signed into it after export")
    embedded = signatures[0]
    try:
        signer = x509.load_der_x509_certificate(embedded.signer_cert.dump())
        result.signer = signer.subject.rfc4514_string()
        result.fingerprint = fingerprint(signer)
        result.signed_at = embedded.self_reported_timestamp
        roots = [next(iter(load_certs_from_pemder_data(c.public_bytes(serialization.Encoding.DER))))
                 for c in pinned]
        context = ValidationContext(trust_roots=roots, allow_fetching=False,
                                    revocation_mode="soft-fail",
                                    moment=result.signed_at or dt.datetime.now(dt.UTC))
        status = validate_pdf_signature(embedded, context, skip_diff=True,
                                        key_usage_settings=KeyUsageConstraints(key_usage=KEY_USAGES))
    except Exception as exc:  # as above: a broken signature is a finding, not a crash
        result.problems.append(f"the signature cannot be checked: {type(exc).__name__}: {exc}"[:300])
        return result
    pinned_prints = {fingerprint(c) for c in pinned}
    who = f"{result.signer} (certificate SHA-256 {result.fingerprint})"
    sound = bool(status.intact and status.valid)
    if not sound:
        result.problems.append("the signature does not match the file: it was changed or rewritten "
                               "after it was signed")
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        result.problems.append("the signature does not cover the whole file: something was added "
                               "after signing (an incremental update, such as an overlay)")
    else:
        result.checks.append("the signature covers the whole file: nothing was changed, added or "
                             "removed after signing")
    if not pinned:
        result.problems.append(f"signed by {who}, but there is no pinned certificate to check it "
                               "against: this deployment has not signed a PDF yet; pass --cert")
    elif not (status.trusted if sound else result.fingerprint in pinned_prints):
        result.problems.append(f"signed by {who}, which is not the pinned certificate "
                               f"({', '.join(sorted(pinned_prints))}) nor issued by it")
    elif sound:
        how = "the pinned certificate" if result.fingerprint in pinned_prints \
            else "a certificate issued by the pinned one"
        when = result.signed_at.isoformat() if result.signed_at else "an unstated time"
        result.checks.append(f"signed (PAdES B-B) by {who}, {how}, at {when} as the signer states "
                             "it (no timestamp authority)")
    return result
