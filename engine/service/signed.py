"""Every PDF export signed with the deployment's certificate as its last step; the certificate
itself for whoever checks the PDFs elsewhere.

The self-signed certificate is made by the first signed export when the key folder has none
(DTPA_KEY_DIR, engine/export/signing.py). When that export is of a stored record or a bundle,
making it is an audit event (`signing_certificate_created`, naming the person and the
certificate's SHA-256), so the chain says from when PDFs were signed with which certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.export.signing import certificate_pem, deployment_identity, pinned_certificates, sign_pdf
from engine.export.signing import fingerprint as certificate_fingerprint
from engine.store import Store, audit


def signed_pdf(pdf: bytes, store: Store | None = None, by: tuple[str, str] | None = None) -> bytes:
    """`pdf` signed; `by` (name, role) is who exported it, named if this makes the certificate."""
    identity = deployment_identity()
    if identity.created and store is not None and by is not None:
        with store.db.write() as session:
            audit.append(session, by[0], by[1], "signing_certificate_created", None,
                         identity.describe())
    return sign_pdf(pdf, identity)


@dataclass(frozen=True)
class Certificate:
    pem: str
    sha256: str
    subject: str
    not_after: str


def signing_certificates() -> list[Certificate]:
    """The certificates `verify-pdf` pins here: the current one first, then any used before.
    Empty when this deployment has not signed a PDF yet (nothing is made here)."""
    return [Certificate(certificate_pem(c), certificate_fingerprint(c), c.subject.rfc4514_string(),
                        c.not_valid_after_utc.date().isoformat()) for c in pinned_certificates()]
