"""Files a front end writes or is handed: output names that never leave their folder, and the
check that an exported PDF still carries its record unaltered."""

from engine.export.documents import safe_output
from engine.export.verify import PdfCheck, verify_pdf

__all__ = ["PdfCheck", "safe_output", "verify_pdf"]
