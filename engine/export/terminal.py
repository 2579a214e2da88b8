"""A decision record as plain text for a terminal: outcome, verdicts, findings, open questions."""

from __future__ import annotations

import textwrap

from engine.decide.wording import (
    CONTEXT_WORDS,
    FAVOURABLE,
    VERDICT_WORDS,
    outcome_line,
    product_conditions_heading,
    product_source_words,
    role_words,
    status_words,
)
from engine.models.record import DecisionRecord
from engine.store import RecordView
from engine.store.tombstones import erasure_note, is_erased

WIDTH = 100


def _wrap(text: str, indent: str, rest: str | None = None) -> str:
    return textwrap.fill(" ".join(text.split()), WIDTH, initial_indent=indent,
                         subsequent_indent=" " * len(indent) if rest is None else rest)


def record_text(record: DecisionRecord) -> str:
    s = record.subject
    product = " ".join(p for p in (s.product, s.version and f"version {s.version}") if p)
    lines = [CONTEXT_WORDS[record.record_type], "=" * len(CONTEXT_WORDS[record.record_type])]
    if record.title:
        lines.append(record.title)
    lines.append(f"Product:  {product}" + (f" ({s.vendor})" if s.vendor else ""))
    if s.patient_reference:
        lines.append(f"Patient:  {s.patient_reference}" + (f", {s.ward}" if s.ward else ""))
    if record.relies_on:
        lines.append(f"Relies on product decision: {record.relies_on}")
    lines += product_source_text(record)
    lines.append(f"Assessed: {record.assessed_on}   evaluated {record.evaluated_at:%Y-%m-%d %H:%M} UTC")
    lines += ["", _wrap(f"OUTCOME: {outcome_line(record)}", "", "  "),
              _wrap(f"Because: {record.outcome_reason}", "  ")]
    if record.record_type == "individual_use" and record.outcome not in FAVOURABLE:
        # a favourable outcome names the route in its own words
        lines.append(_wrap(f"Legal route recorded: {record.legal_route or 'none'}", "  "))
    if record.review_date:
        lines.append(f"  Review by {record.review_date} ({record.review_basis})")
    if record.scope_note:
        lines.append(_wrap(record.scope_note, "  "))

    lines += ["", "Verdict per principle and practice area"]
    for v in record.verdicts:
        lines.append(f"  {v.target:<4} {v.name[:44]:<44} {VERDICT_WORDS[v.verdict]}")

    lines += ["", f"Findings ({len(record.findings)})"]
    if not record.findings:
        lines.append("  none")
    for f in record.findings:
        targets = ", ".join([*f.principles, *f.areas])
        lines.append(f"  [{f.severity}] {f.rule_id}  {f.title}  ({targets})")
        lines.append(_wrap(f"Why: {f.finding}", "      "))
        lines.append(_wrap(f"Remedy: {f.remedy}", "      "))
        cites = "; ".join(c.title + (f", {c.section}" if c.section else "") for c in f.citations)
        lines.append(_wrap(f"Cites: {cites}", "      "))
        lines.append(f"      Basis: {f.basis}")

    lines += ["", f"Open questions ({len(record.open_questions)})"]
    if not record.open_questions:
        lines.append("  none")
    for q in record.open_questions:
        lines.append(_wrap(f"- {q.fact}: {q.question} (needed by {', '.join(q.rule_ids)}; "
                           f"{', '.join(q.targets)})", "  "))
    if record.not_applicable:
        lines += ["", f"Answered not applicable ({len(record.not_applicable)})"]
        for na in record.not_applicable:
            lines.append(_wrap(f"- {na.fact}: {na.reason}", "  "))

    lines += not_judged_text(record)

    p = record.rule_pack
    lines += ["", f"Rule pack {p.name} {p.version} (sha256 {p.hash[:16]}…), profile {p.profile}",
              f"Rules evaluated {record.trace.rules_evaluated}, fired {len(record.trace.rules_fired)}, "
              f"undecided {len(record.trace.rules_unknown)}; ruleset {record.trace.ruleset}",
              f"Input sha256 {record.input_hash}", f"Record sha256 {record.record_hash}"]
    return "\n".join(lines)


def product_source_text(record: DecisionRecord) -> list[str]:
    """Where an individual use's product facts came from, and the product decision's own
    conditions (shared with `dtpa explain`)."""
    sentence, details = product_source_words(record)
    if not sentence:
        return []
    lines = [_wrap(sentence, "", "  ")]
    lines += [_wrap(f"{label}: {value}", "  ", "    ") for label, value in details]
    if record.product_source is not None and record.product_source.kind == "store":
        lines.append(product_conditions_heading(record))
        lines += [_wrap(f"- {c.rule_id}: {c.title}", "  ", "    ") for c in record.product_conditions]
    return lines


def not_judged_text(record: DecisionRecord) -> list[str]:
    if not record.not_judged:
        return []
    return ["", "What DTPA does not judge (the people deciding must)",
            *(_wrap(f"- {item}", "  ", "    ") for item in record.not_judged)]


def governance_text(view: RecordView, in_words: bool = False) -> str:
    """Status, sign-offs and overrides: shown wherever a stored record is shown. With
    `in_words` (the web), roles read as people say them ("DPO"); the command line keeps the
    role codes it is given and accepts."""
    role = role_words if in_words else str
    lines = [f"Record {view.row.id} (version {view.row.version}), saved {view.row.created_at[:16]} "
             f"by {view.row.created_by} ({role(view.row.created_role)})",
             f"Status: {status_words(view) if in_words else view.status}"]
    if is_erased(view.row):  # a tombstone: what happened to the payload, and its hashes
        lines.append(_wrap(erasure_note(view.row), ""))
    if view.effective_outcome != view.record.outcome:
        lines.append(f"Outcome in force: {view.effective_outcome} (overridden; the engine decided "
                     f"{view.record.outcome})")
    if view.signoffs:
        lines.append("Signed off by:")
        lines += [f"  - {s.name} ({role(s.role)}) on {s.signed_at[:10]}: attests "
                  + ", ".join(k for k, v in s.attestations.items() if v)
                  + (f". Comment: {s.comment}" if s.comment else "") for s in view.signoffs]
    if view.overrides:
        lines.append("Overrides (the engine's verdict stays on the record):")
        lines += [_wrap(f"- {o.target}: engine said {o.engine_value}, {o.name} ({role(o.role)}) set "
                        f"{o.new_value} on {o.created_at[:10]} because: {o.reason}", "  ")
                  for o in view.overrides]
    for flag in view.review_flags:
        lines.append(_wrap(f"Flagged for review on {flag.at[:10]}: "
                           f"{flag.detail.get('reason', flag.action)}", ""))
    return "\n".join(lines)
