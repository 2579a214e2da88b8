"""Hosting durable_rules safely (see the stack reference notes for the measurements behind this).

- `durable.lang` is not used: its process-wide host refuses a ruleset name twice (Streamlit reruns).
- The Host's background timer threads are disabled (with them, concurrent use segfaults).
- One uuid sid per evaluation, facts via `assert_fact`, and `delete_state` always.
- durable_rules swallows exceptions raised in actions into the session state: they are read back
  and raised. A cap on actions per evaluation cuts any chaining loop.
- One lock around each evaluation; rulesets are versioned by the pack's content hash, so loading
  the same pack twice reuses the registered ruleset and a changed pack gets a new name.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from durable.engine import Host, MessageNotHandledException

from engine.errors import EngineFailure
from engine.runtime.compiler import Action, ActionKind, Program

MAX_ACTIONS = 10_000

# Per rule id: its severity and the principles and areas it serves.
RuleInfo = Mapping[str, tuple[str, list[str]]]
# What a durable_rules action receives: its closure (`c.m` the matched fact, `c.s` the session
# state, `c.assert_fact`). durable_rules publishes no types, so this edge stays Any.
Closure = Any


class DurableHost(Protocol):
    """The part of durable_rules' Host that DTPA uses. durable_rules publishes no type
    information, so its Host is Any to mypy; the engine holds it through this protocol."""

    def register_rulesets(self, ruleset_definitions: dict[str, Any]) -> Any: ...

    def assert_fact(self, ruleset_name: str, fact: dict[str, Any]) -> Any: ...

    def get_state(self, ruleset_name: str, sid: str) -> dict[str, Any]: ...

    def delete_state(self, ruleset_name: str, sid: str) -> None: ...


# durable_rules has no stubs or py.typed: its Host is Any to mypy, and mypy --strict refuses a
# subclass of Any. The subclass is needed to switch off the timers (Host.__init__ starts them).
class _QuietHost(Host):  # type: ignore[misc]
    """A Host without the dispatcher and timer threads: every action runs inside assert_fact."""

    def _run(self) -> None:  # the stock Host starts two threading.Timer loops here
        pass


@dataclass
class Raw:
    """What one evaluation produced, collected by the actions (keyed by sid)."""

    fired: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    verdicts: list[dict[str, str]] = field(default_factory=list)
    # which rules stand behind each derived (kind, target, severity) fact
    sources: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)
    outcomes: list[dict[str, str]] = field(default_factory=list)
    seen: set[tuple[str, ...]] = field(default_factory=set)
    actions: int = 0
    error: str | None = None


# A rule's action, given the closure, this evaluation's collector, the action and the rule info.
_Act = Callable[[Closure, Raw, Action, RuleInfo], None]


class Engine:
    """One per process. Thread-safe: evaluations are serialised by a lock."""

    def __init__(self) -> None:
        self._host: DurableHost = _QuietHost()
        self._lock = threading.Lock()
        self._registered: dict[str, Program] = {}
        self._runs: dict[str, Raw] = {}

    def ensure(self, program: Program, rule_info: RuleInfo) -> None:
        """Register the program's ruleset once; the same name means the same content."""
        with self._lock:
            if program.ruleset in self._registered:
                return
            definition = copy.deepcopy(program.definition)  # Ruleset() mutates what it is given
            for name, rule in definition.items():
                rule["run"] = self._make_action(program.actions[name], rule_info)
            self._host.register_rulesets({program.ruleset: definition})
            self._registered[program.ruleset] = program

    @property
    def registered(self) -> list[str]:
        return list(self._registered)

    def evaluate(self, program: Program, fact: dict[str, Any]) -> Raw:
        if program.ruleset not in self._registered:
            raise EngineFailure(f"ruleset {program.ruleset} is not registered")
        sid = uuid.uuid4().hex
        raw = Raw()
        with self._lock:
            self._runs[sid] = raw
            unhandled = False
            try:
                self._host.assert_fact(program.ruleset, {**fact, **program.lane_facts, "sid": sid})
                state = self._host.get_state(program.ruleset, sid)
            except MessageNotHandledException:
                unhandled = True
                raise EngineFailure("no rule handled the assessment (the catch-all rule is "
                                    "missing from the ruleset)") from None
            except Exception as exc:  # durable raises bare Exceptions with error codes
                raise EngineFailure(f"durable_rules could not evaluate the assessment: {exc}") from exc
            finally:
                self._runs.pop(sid, None)
                # delete_state after an unhandled assert can segfault (reference notes, 3.2).
                if not unhandled:
                    try:
                        self._host.delete_state(program.ruleset, sid)
                    except Exception:  # a sid that never got state has nothing to delete
                        pass
        failure = raw.error or state.get("exception")
        if failure:
            raise EngineFailure(f"a rule action failed during evaluation: {failure}")
        return raw

    def _make_action(self, action: Action, rule_info: RuleInfo) -> Callable[[Closure], None]:
        runs = self._runs

        def run(c: Closure) -> None:
            raw = runs.get(c.s.sid)
            if raw is None:
                return
            raw.actions += 1
            if raw.actions > MAX_ACTIONS:
                raw.error = f"evaluation cut after {MAX_ACTIONS} rule actions (a rule loops)"
                # Raising would not help (durable_rules swallows it and carries on); marking the
                # closure completed makes its dispatch loop stop before starting the next action.
                c._completed = True
                return
            try:
                _ACTIONS[action.kind](c, raw, action, rule_info)
            except Exception as exc:  # durable would swallow it: keep it and raise after
                raw.error = raw.error or f"{action.ref}: {type(exc).__name__}: {exc}"

        return run


def _first_time(raw: Raw, *key: str) -> bool:
    """durable_rules activates a rule once per `$or` branch that matches, so the same rule can
    fire twice for one fact; asserting the same finding twice would raise MessageObserved."""
    if key in raw.seen:
        return False
    raw.seen.add(key)
    return True


def _derive(c: Closure, fact: dict[str, str]) -> None:
    """Assert a derived fact. One that no rule consumes (an advisory finding, say) is fine: it is
    already in the collector, and durable_rules reports it as MessageNotHandled."""
    try:
        c.assert_fact(fact)
    except MessageNotHandledException:
        pass


def _rule_result(fact_kind: str, bucket: str) -> _Act:
    """A rule held (a finding) or could not be decided (an open question): record it and
    assert one fact per principle or area it serves, for the decision policy to chain on."""

    def action(c: Closure, raw: Raw, act: Action, info: RuleInfo) -> None:
        if not _first_time(raw, fact_kind, act.ref):
            return
        getattr(raw, bucket).append(act.ref)
        severity, targets = info[act.ref]
        for target in targets:
            rules = raw.sources.setdefault((fact_kind, target, severity), [])
            rules.append(act.ref)
            if len(rules) == 1:  # one fact per principle and severity is all the policy needs
                _derive(c, {"kind": fact_kind, "target": target, "severity": severity})

    return action


def _given(action: Action) -> str:
    """The verdict or outcome a policy rule gives: load_pack refuses a policy rule without it."""
    assert action.value is not None
    return action.value


def _verdict(c: Closure, raw: Raw, action: Action, info: RuleInfo) -> None:
    m = c.m
    if not _first_time(raw, "verdict", action.ref, m.kind, m.target, m.severity):
        return
    verdict = _given(action)
    raw.verdicts.append({"target": m.target, "verdict": verdict, "by": action.ref,
                         "source": f"{m.kind}|{m.target}|{m.severity}"})
    # One verdict fact per principle and policy rule is enough for the outcome rules to chain on.
    if _first_time(raw, "verdict-fact", action.ref, m.target):
        _derive(c, {"kind": "verdict", "target": m.target, "verdict": verdict, "by": action.ref})


def _outcome(c: Closure, raw: Raw, action: Action, info: RuleInfo) -> None:
    m = c.m
    raw.outcomes.append({"outcome": _given(action), "by": action.ref,
                         "target": m.target or ""})


_ACTIONS: dict[ActionKind, _Act] = {
    "finding": _rule_result("finding", "fired"), "open": _rule_result("open_question", "unknown"),
    "verdict": _verdict, "outcome": _outcome,
    "catch": lambda c, raw, action, info: None,
}
