"""Published JSON Schemas of the inputs and of the decision record (docs/schemas/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from engine.models.assessment import Assessment, IndividualUseCheck, ProcurementAssessment
from engine.models.record import RECORD_SCHEMA_VERSION, DecisionRecord

BASE = "https://dtpa.example/schemas"  # identifiers only; nothing is fetched from them


def schemas() -> dict[str, dict[str, Any]]:
    out = {
        "procurement-assessment.schema.json": ProcurementAssessment.model_json_schema(),
        "individual-use-check.schema.json": IndividualUseCheck.model_json_schema(),
        "assessment.schema.json": TypeAdapter(Assessment).json_schema(),
        f"decision-record-{RECORD_SCHEMA_VERSION}.schema.json": DecisionRecord.model_json_schema(
            mode="serialization"),
    }
    for name, schema in out.items():
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"{BASE}/{name}"
    return out


def write_schemas(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = folder / name
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
