"""Decisions as plain text for a terminal: the record, the governance around a stored one, and
the chain from answers to rules to principles to the outcome."""

from engine.export.explain import explain_text
from engine.export.terminal import governance_text, record_text

__all__ = ["explain_text", "governance_text", "record_text"]
