"""`dtpa verify-pdf`: was an exported PDF signed by this deployment and not altered since, and does
it still carry the record it claims to?

The signature (PAdES B-B, over the whole file) is checked against the pinned certificate (the
deployment's, or one given with --cert), so a changed page, an overlay added as an incremental
update, a removed page or a re-signed file fails. Then the attached record's hash is recomputed
and, with a store, compared with the stored record and its audit chain; a PDF that names no
stored record fails when checked against a store.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from engine.errors import InputInvalid, RecordNotFound
from engine.export.documents import BUNDLE, BUNDLE_INDEX
from engine.export.pdf import ATTACHMENT, GOVERNANCE, HASH_KEY, ID_KEY
from engine.export.signing import check_signature, pinned_certificates
from engine.models.record import DecisionRecord, seal
from engine.store import Store


@dataclass
class PdfCheck:
    record_id: str | None = None  # a bundle's: its records' ids, comma-separated
    record_hash: str | None = None
    signer: str | None = None  # the signing certificate's subject and SHA-256
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_pdf(path: Path, store: Store | None = None, cert: Path | None = None) -> PdfCheck:
    """Check a PDF's signature against the pinned certificate (`cert`, else the deployment's),
    its attached record(s) and, with a store, the stored records and the audit chain."""
    result = PdfCheck()
    try:
        data = Path(path).read_bytes()
        reader = PdfReader(io.BytesIO(data))
        attachments = reader.attachments
        meta: Mapping[str, object] = reader.metadata or {}
    except (OSError, PdfReadError) as exc:
        raise InputInvalid(f"{path}: not a readable PDF ({exc})") from None
    signature = check_signature(data, pinned_certificates(cert))
    result.checks += signature.checks
    result.problems += signature.problems
    if signature.fingerprint:
        result.signer = f"{signature.signer} (SHA-256 {signature.fingerprint})"
    if BUNDLE in attachments:
        _bundle(result, attachments, store)
        return result
    if ATTACHMENT not in attachments:
        result.problems.append(f"no {ATTACHMENT} attached: not a DTPA export, or it was stripped")
        return result
    try:
        record = DecisionRecord.model_validate_json(attachments[ATTACHMENT][0])
    except ValueError:
        result.problems.append(f"the attached {ATTACHMENT} is not a valid decision record")
        return result
    result.record_id = str(meta.get(ID_KEY) or "") or None
    result.record_hash = record.record_hash
    _record_hash(result, record)
    stated = str(meta.get(HASH_KEY) or "")
    if stated != record.record_hash:
        result.problems.append(f"the PDF states record hash {stated or 'none'}, the attachment "
                               f"carries {record.record_hash}")
    else:
        result.checks.append("the hash stated in the PDF matches the attachment")
    if GOVERNANCE in attachments:  # an audit PDF shows the hash on its verification page
        text = "".join(page.extract_text() or "" for page in reader.pages[-2:])
        if record.record_hash not in "".join(text.replace("\u200b", "").replace("\x00", "").split()):
            result.problems.append("the verification page does not show the attached record's hash")
    if store is not None:
        if result.record_id is None:
            result.problems.append(
                "the PDF names no stored record (no record id): checked against a store, only a "
                "stored record's export verifies (an unstored assessment, or an id removed)")
        else:
            _against_store(result, store, {result.record_id: record.record_hash})
    return result


def _record_hash(result: PdfCheck, record: DecisionRecord, label: str = "attached record") -> bool:
    recomputed = seal(record).record_hash
    if recomputed != record.record_hash:
        result.problems.append(f"the {label} was altered: its content no longer matches its "
                               "record hash")
        return False
    result.checks.append(f"{label} hash recomputed: {recomputed}")
    return True


def _bundle(result: PdfCheck, attachments: Mapping[str, list[bytes]], store: Store | None) -> None:
    """A bundle: each attached record's hash, the index of their stored ids and, with a store,
    each stored record."""
    try:
        records = [DecisionRecord.model_validate(r) for r in json.loads(attachments[BUNDLE][0])]
        index: list[dict[str, Any]] = json.loads(attachments[BUNDLE_INDEX][0]) \
            if BUNDLE_INDEX in attachments else []
    except (ValueError, TypeError):
        result.problems.append(f"the attached {BUNDLE} is not a list of valid decision records")
        return
    intact = all([_record_hash(result, r, f"bundle record {i}") for i, r in enumerate(records, 1)])
    ids = {str(e.get("record_id")): str(e.get("record_hash")) for e in index
           if isinstance(e, dict) and e.get("record_id")}
    if sorted(ids.values()) != sorted(r.record_hash for r in records):
        result.problems.append(f"the bundle's {BUNDLE_INDEX} does not list its records' ids "
                               "and hashes")
    elif intact:
        result.checks.append(f"bundle of {len(records)} record(s), each hash recomputed")
    result.record_id = ", ".join(ids) or None
    if store is not None:
        if not ids:
            result.problems.append("the bundle names no stored record: checked against a store, "
                                   "only stored records' exports verify")
        else:
            _against_store(result, store, ids)


def _against_store(result: PdfCheck, store: Store, expected: dict[str, str]) -> None:
    """Each record id's stored hash is the one in the PDF, and the chain names nothing of it."""
    for record_id, record_hash in expected.items():
        try:
            view = store.get(record_id)
        except RecordNotFound:
            result.problems.append(f"record {record_id} is not in the store")
            continue
        if view.row.record_hash != record_hash:
            result.problems.append(f"the stored record {record_id} has hash "
                                   f"{view.row.record_hash}, not the attached one")
        else:
            result.checks.append(f"matches the stored record {record_id}")
    chain = store.verify()
    mine = [p for p in chain.problems if any(record_id in p for record_id in expected)]
    result.problems += mine
    if not mine:
        result.checks.append(f"audit chain checked ({chain.events} events): nothing about "
                             f"{', '.join(expected)} was altered")
