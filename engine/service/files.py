"""Files a front end writes or is handed: output names that never leave their folder, the check
that an exported PDF was signed here and still carries its record unaltered, and the signing
certificates that check pins."""

from pathlib import Path

from engine.export.documents import safe_output
from engine.export.verify import PdfCheck, verify_pdf
from engine.service.api import open_store
from engine.service.signed import Certificate, signing_certificates

__all__ = ["Certificate", "PdfCheck", "check_pdf", "safe_output", "signing_certificates"]


def check_pdf(path: Path, db: str | None = None, with_store: bool = True,
              cert: Path | None = None) -> PdfCheck:
    """An exported PDF checked alone, or also against the store at `db` (or the default)."""
    return verify_pdf(path, open_store(db) if with_store else None, cert)
