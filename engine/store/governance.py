"""Sign-off and override: who may approve a stored decision and how a person departs from the
engine's verdict. Both are kept beside the record (never in it), hashed, and audited."""

from __future__ import annotations

from collections.abc import Iterable

from engine.errors import InputInvalid, StoreConflict
from engine.models.people import known_role, require_name
from engine.models.vocab import Attestation, Outcome, Verdict
from engine.store import audit
from engine.store.records import Records, RecordView
from engine.store.tables import OverrideRow, SignoffRow

MIN_REASON = 20


class Governance(Records):
    def sign(self, ref: str, name: str, role: str, attestations: Iterable[str],
             comment: str | None = None) -> RecordView:
        """Sign a record with all four attestations (ICO DPIA step 7 / CNIL validation)."""
        known_role(role)
        require_name(name)
        given = set(attestations)
        unknown = given - {a.value for a in Attestation}
        if unknown:
            raise InputInvalid(f"unknown attestation(s): {', '.join(sorted(unknown))}; use "
                               + ", ".join(a.value for a in Attestation))
        missing = [a.value for a in Attestation if a.value not in given]
        if missing:
            raise InputInvalid("a sign-off must attest all four statements; missing: "
                               + ", ".join(missing))
        with self.db.write() as session:
            row = self._row(session, ref)
            view = self._view(session, row)
            if view.superseded_by:
                raise StoreConflict(f"{row.id} is superseded by {view.superseded_by}; sign that")
            if any(s.role == role and s.name == name for s in view.signoffs):
                raise StoreConflict(f"{name} has already signed {row.id} as {role}")
            signoff = SignoffRow(record_id=row.id, name=name, role=role, signed_at=audit.utc_now(),
                                 attestations={a.value: True for a in Attestation}, comment=comment)
            audit.seal_signoff(signoff)
            session.add(signoff)
            session.flush()
            audit.append(session, name, role, "signed", row.id,
                         {"signoff_id": signoff.id, "content_hash": signoff.content_hash})
            return self._view(session, row)

    def override(self, ref: str, target: str, new_value: str, name: str, role: str,
                 reason: str) -> RecordView:
        """Depart from the engine on a principle, an area or the outcome, with a reason; the
        engine's own value stays on the record."""
        known_role(role)
        require_name(name)
        if len((reason or "").strip()) < MIN_REASON:
            raise InputInvalid(f"an override needs a reason of at least {MIN_REASON} characters")
        with self.db.write() as session:
            row = self._row(session, ref)
            view = self._view(session, row)
            if view.superseded_by:
                raise StoreConflict(f"{row.id} is superseded by {view.superseded_by}")
            allowed: list[str]
            engine_value: str
            if target == "outcome":
                allowed, engine_value = [o.value for o in Outcome], view.record.outcome
            else:
                verdicts = {v.target: v.verdict for v in view.record.verdicts}
                if target not in verdicts:
                    raise InputInvalid(f"unknown principle or area {target!r}; use one of "
                                       + ", ".join(verdicts) + " or 'outcome'")
                allowed, engine_value = [v.value for v in Verdict], verdicts[target]
            if new_value not in allowed:
                raise InputInvalid(f"{new_value!r} is not a value for {target}; use one of "
                                   + ", ".join(allowed))
            over = OverrideRow(record_id=row.id, target=target, engine_value=engine_value,
                               new_value=new_value, name=name, role=role, reason=reason.strip(),
                               created_at=audit.utc_now())
            audit.seal_override(over)
            session.add(over)
            session.flush()
            audit.append(session, name, role, "overridden", row.id,
                         {"override_id": over.id, "content_hash": over.content_hash,
                          "target": target, "from": engine_value, "to": new_value})
            return self._view(session, row)
