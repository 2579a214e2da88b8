"""The process's one durable_rules host and the rulesets registered on it, one per rule-pack
content hash and context (durable_rules keeps one C-level host per process: so does DTPA)."""

from __future__ import annotations

import threading

from engine.knowledge.pack import RulePack
from engine.runtime.compiler import Program, compile_program
from engine.runtime.host import Engine

_ENGINE = Engine()
_PROGRAMS: dict[tuple[str, str], Program] = {}
_PROGRAMS_LOCK = threading.Lock()


def engine() -> Engine:
    return _ENGINE


def program_for(pack: RulePack, context: str) -> Program:
    """The compiled, registered ruleset for a context; built once per pack content hash."""
    key = (pack.hash, context)
    with _PROGRAMS_LOCK:
        program = _PROGRAMS.get(key)
        if program is None:
            program = compile_program(pack, context)
            info = {lr.rule.id: (lr.rule.severity, lr.rule.targets) for lr in pack.rules_for(context)}
            _ENGINE.ensure(program, info)
            _PROGRAMS[key] = program
    return program
