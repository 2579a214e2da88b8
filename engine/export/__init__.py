"""Exports a DPO can rely on: audit PDF, bundles, easy-read summary, JSON and FHIR R5."""
