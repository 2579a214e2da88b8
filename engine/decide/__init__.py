"""From what durable_rules decided to a sealed decision record: assembly, wording, and what would
change the decision.
"""
