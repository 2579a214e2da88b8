"""The service layer: the one front door. The web pages, the command line and any later API act
through these functions (and, as a signed-in person, through `session.Access`)."""

from engine.models.assessment import AnyAssessment, IndividualUseCheck, ProcurementAssessment
from engine.runtime.programs import engine, program_for
from engine.service.api import (
    EXPORT_KINDS,
    SEEDER,
    check_use,
    decide,
    export_bundle,
    export_file,
    export_stored,
    open_store,
    product_link,
    product_unusable,
    reevaluate_all,
    render_export,
    save_assessment,
    seed_case_studies,
    select_records,
)
from engine.service.case_library import CASE_STUDIES, case_studies, read_case_study
from engine.service.deciding import (
    assess,
    decide_quickly,
    default_pack,
    evaluate,
    load_assessment,
    load_rules,
    parse_assessment,
    validate_assessment,
)
from engine.service.reevaluate import Report

__all__ = [
    "CASE_STUDIES", "EXPORT_KINDS", "SEEDER", "AnyAssessment", "IndividualUseCheck",
    "ProcurementAssessment", "Report", "assess", "check_use", "decide", "decide_quickly",
    "default_pack", "engine", "evaluate", "export_bundle", "export_file", "export_stored",
    "load_assessment", "load_rules", "open_store", "parse_assessment", "product_link",
    "product_unusable", "program_for", "reevaluate_all", "render_export", "save_assessment",
    "seed_case_studies", "select_records", "validate_assessment",
    "case_studies", "read_case_study",
]
