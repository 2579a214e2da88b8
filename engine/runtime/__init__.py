"""durable_rules hosted safely: rule packs compiled into rulesets, one host per process, and each
rule's own cases run through it.
"""
