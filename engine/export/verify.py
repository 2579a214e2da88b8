"""`dtpa verify-pdf`: does an exported PDF still carry the record it claims to, unaltered?"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from engine.errors import InputInvalid, RecordNotFound
from engine.export.pdf import ATTACHMENT, HASH_KEY, ID_KEY
from engine.models.record import DecisionRecord, seal
from engine.store import Store


@dataclass
class PdfCheck:
    record_id: str | None = None
    record_hash: str | None = None
    checks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_pdf(path: Path, store: Store | None = None) -> PdfCheck:
    result = PdfCheck()
    try:
        reader = PdfReader(io.BytesIO(Path(path).read_bytes()))
        attachments = reader.attachments
    except (OSError, PdfReadError) as exc:
        raise InputInvalid(f"{path}: not a readable PDF ({exc})") from None
    if ATTACHMENT not in attachments:
        result.problems.append(f"no {ATTACHMENT} attached: not a DTPA export, or it was stripped")
        return result
    try:
        record = DecisionRecord.model_validate_json(attachments[ATTACHMENT][0])
    except ValueError:
        result.problems.append(f"the attached {ATTACHMENT} is not a valid decision record")
        return result
    meta: Mapping[str, object] = reader.metadata or {}
    result.record_id = str(meta.get(ID_KEY) or "") or None
    result.record_hash = record.record_hash
    recomputed = seal(record).record_hash
    if recomputed != record.record_hash:
        result.problems.append("the attached record was altered: its content no longer matches "
                               "its record hash")
    else:
        result.checks.append(f"attached record hash recomputed: {recomputed}")
    stated = str(meta.get(HASH_KEY) or "")
    if stated != record.record_hash:
        result.problems.append(f"the PDF states record hash {stated or 'none'}, the attachment "
                               f"carries {record.record_hash}")
    else:
        result.checks.append("the hash stated in the PDF matches the attachment")
    text = "".join(page.extract_text() or "" for page in reader.pages[-2:])
    if record.record_hash not in "".join(text.replace("\u200b", "").replace("\x00", "").split()):
        result.problems.append("the verification page does not show the attached record's hash")
    if store is not None and result.record_id:
        try:
            view = store.get(result.record_id)
        except RecordNotFound:
            result.problems.append(f"record {result.record_id} is not in the store")
            return result
        if view.row.record_hash != record.record_hash:
            result.problems.append(f"the stored record {result.record_id} has hash "
                                   f"{view.row.record_hash}, not the attached one")
        else:
            result.checks.append(f"matches the stored record {result.record_id}")
        chain = store.verify()
        mine = [p for p in chain.problems if result.record_id in p]
        result.problems += mine
        if not mine:
            result.checks.append(f"audit chain checked ({chain.events} events): nothing about "
                                 f"{result.record_id} was altered")
    return result
