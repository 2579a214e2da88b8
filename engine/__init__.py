"""DTPA engine: NHS England's digital technology principles as declarative rules.

The public API lives in :mod:`engine.service`; front ends (CLI, Streamlit) call only that.
"""

__version__ = "0.1.0"
