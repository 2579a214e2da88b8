"""One family of errors. Each carries a message and a sentence saying what to do about it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One located problem in a file: where it is, which rule (if any), and what is wrong."""

    file: str
    line: int | None
    message: str
    rule_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" {self.rule_id}" if self.rule_id else ""
        return f"{where}{who}: {self.message}"


class DTPAError(Exception):
    """Base class of every error DTPA raises on purpose."""

    hint = ""

    def __init__(self, message: str, problems: list[Problem] | None = None):
        super().__init__(message)
        self.message = message
        self.problems = list(problems or [])

    def __str__(self) -> str:
        lines = [self.message, *(f"  {p}" for p in self.problems)]
        return "\n".join(lines)


class InputInvalid(DTPAError):
    """An assessment (YAML/JSON file or form) does not match the model."""

    hint = "Correct the input named above and try again."


class RulesInvalid(DTPAError):
    """The catalogue, a rule file, the decision policy or the local profile is malformed."""

    hint = "Fix the rule or catalogue files named above; `dtpa rules check` lists every problem."


class EngineFailure(DTPAError):
    """durable_rules reported a failure while evaluating (an action raised, or a loop was cut)."""

    hint = "This is a defect in DTPA or its rules, not in your input; please report it."


class StoreUnavailable(DTPAError):
    """The database cannot be reached or its URL is wrong."""

    hint = "Check DTPA_DATABASE_URL and that the database server is running."


class StoreBusy(StoreUnavailable):
    """Another writer held a lock for longer than DTPA_LOCK_TIMEOUT: nothing was written."""

    hint = "Nothing was changed. Another write was in progress; try again in a moment."


class Interrupted(DTPAError):
    """Long work stopped part-way (Ctrl-C); what was done is kept and the stop is recorded."""

    hint = "Run the same command again: it resumes, and nothing done already is done twice."


class AuditKeyMissing(StoreUnavailable):
    """The audit chain's key (DTPA_KEY_DIR) is missing or unsafe to use: nothing is written or
    verified, and no new key is made for a store that has events."""

    hint = ("Restore the key folder from its backup or point DTPA_KEY_DIR at it (README, \"Keeping "
            "the audit key\"). A store made before audit keys: `dtpa keys init --adopt`.")


class AuditChainBroken(StoreUnavailable):
    """The store contradicts its signed checkpoints (emptied, or cut short): nothing is written."""

    hint = ("Run `dtpa audit verify` and restore the database from its backup; a new store needs "
            "a new key folder (DTPA_KEY_DIR).")


class CheckpointNotWritten(StoreUnavailable):
    """A signed checkpoint could not be written to the checkpoint folder (DTPA_CHECKPOINT_DIR)."""

    hint = ("Make the checkpoint folder writable by the account DTPA runs as (or point "
            "DTPA_CHECKPOINT_DIR at one that is), then run `dtpa audit checkpoint`.")


class RecordNotFound(DTPAError):
    """No stored record has that id."""

    hint = "List the stored records with `dtpa records list`."


class StoreConflict(DTPAError):
    """The request contradicts what is stored (a reused idempotency key, a superseded version ...)."""

    hint = "Nothing was changed; read the message and correct the request."


class SigningUnavailable(DTPAError):
    """The deployment's PDF signing key or certificate cannot be read (or is unsafe to use)."""

    hint = ("Check DTPA_KEY_DIR, or DTPA_PDF_SIGNING_PKCS12 / DTPA_PDF_SIGNING_KEY and "
            "DTPA_PDF_SIGNING_CERT (README: Exports a DPO can rely on).")


class IntegrityFailure(DTPAError):
    """A stored record or account disagrees with what the audit chain sealed (a column or the
    record's bytes were changed outside DTPA): it is not used."""

    hint = ("Nothing was read or changed. Ask the DPO to run `dtpa audit verify`, which names "
            "what was changed.")


class AccessDenied(DTPAError):
    """The person's role (or ward) does not allow this."""

    hint = "Ask an administrator if you need this access; the refusal was not recorded as an action."


class NotSignedIn(AccessDenied):
    """No signed-in account, or its token is unknown, expired or revoked."""

    hint = ("Sign in with `dtpa login USERNAME`, or set DTPA_TOKEN to a token from "
            "`dtpa token create`.")
