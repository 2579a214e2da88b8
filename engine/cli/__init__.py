"""The `dtpa` command line. Each command calls one function of `engine.service` and prints the
result; the commands are grouped in modules that register themselves on the shared app."""

from engine.cli import accounts, decisions, exports, keys, records, reference  # noqa: F401 - registers the commands
from engine.cli.base import app

__all__ = ["app"]
