"""The vocabulary rules are written in: the fact schema derived from the models, and the condition
language compiled 1:1 into durable_rules operators.
"""
