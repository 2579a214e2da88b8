"""How many rules serve each principle and practice area in each context, and the gaps."""

from __future__ import annotations

from engine.knowledge.pack import RulePack


def coverage(pack: RulePack) -> dict[str, dict[str, int]]:
    """Principle or area -> context -> number of rules serving it there."""
    table = {t: {"procurement": 0, "individual_use": 0} for t in pack.catalogue.targets}
    for loaded in pack.rules.values():
        if loaded.rule.severity == "out_of_scope":
            continue  # the scope rule names every principle but decides none of them
        for target in loaded.rule.targets:
            for ctx in loaded.rule.context:
                table[target][ctx] += 1
    return table


def coverage_gaps(pack: RulePack) -> list[str]:
    return [f"{t} has no rule in {ctx}" for t, row in coverage(pack).items()
            for ctx, n in row.items() if n == 0]
