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


class RecordNotFound(DTPAError):
    """No stored record has that id."""

    hint = "List the stored records with `dtpa records list`."


class StoreConflict(DTPAError):
    """The request contradicts what is stored (a reused idempotency key, a superseded version ...)."""

    hint = "Nothing was changed; read the message and correct the request."


class AccessDenied(DTPAError):
    """The person's role (or ward) does not allow this."""

    hint = "Ask an administrator if you need this access; the refusal was not recorded as an action."


class NotSignedIn(AccessDenied):
    """No signed-in account, or its token is unknown, expired or revoked."""

    hint = ("Sign in with `dtpa login USERNAME`, or set DTPA_TOKEN to a token from "
            "`dtpa token create`.")
