"""Files a front end writes or is handed: output names that never leave their folder, the check
that an exported PDF was signed here and still carries its record unaltered, and the signing
certificates that check pins."""

from engine.export.documents import safe_output
from engine.export.verify import PdfCheck, verify_pdf
from engine.service.signed import Certificate, signing_certificates

__all__ = ["Certificate", "PdfCheck", "safe_output", "signing_certificates", "verify_pdf"]
