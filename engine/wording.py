"""Words for outcomes and verdicts, fitted to who reads them (shared by CLI, UI and exports)."""

from __future__ import annotations

OUTCOME_WORDS: dict[str, dict[str, str]] = {
    "procurement": {
        "supported": "Supported: the product may be deployed as assessed",
        "supported_with_conditions": "Supported with conditions: deploy only once the conditions are met",
        "insufficient_information": "Insufficient information: answer the open questions before deciding",
        "not_supported": "Not supported: the product must not be deployed as proposed",
        "out_of_scope": "Out of scope: the principles do not cover this kind of technology",
    },
    "individual_use": {
        "supported": "Supported: this use for this patient is lawful, least restrictive and recorded",
        "supported_with_conditions": "Supported with conditions: use only once the conditions are met",
        "insufficient_information": "Insufficient information: answer the open questions before using it",
        "not_supported": "Not supported: do not use the technology for this patient as proposed",
        "out_of_scope": "Out of scope: the principles do not cover this kind of technology",
    },
}

VERDICT_WORDS = {
    "met": "met",
    "met_with_conditions": "met with conditions",
    "not_met": "not met",
    "unknown": "unknown (questions open)",
    "not_applicable": "not applicable",
}

CONTEXT_WORDS = {"procurement": "Product assessment (procurement)",
                 "individual_use": "Individual use check (one patient)"}
