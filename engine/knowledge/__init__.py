"""What DTPA knows, as data: the catalogue, the rule files and their checks, the local profile, the
version lock, the traceability graph and the questions reference.
"""
