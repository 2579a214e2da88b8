"""Reference documents generated from the models and the rule pack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from engine import service
from engine.cli.base import app
from engine.errors import DTPAError
from engine.service import rulepack


@app.command()
def questions(
    out: Annotated[Path | None, typer.Option(
        "--out", help="File to write (default: docs/questions.md in the repository)")] = None,
    check: Annotated[bool, typer.Option(
        "--check", help="Write nothing; exit 1 if the file differs from what would be generated")]
    = False,
) -> None:
    """Write the questions reference: every fact a rule can read, its type, values and readers."""
    path = out or rulepack.QUESTIONS_PATH
    text = rulepack.questions_reference(service.load_rules())
    if check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current != text:
            state = "is missing" if current is None else "is out of date"
            raise DTPAError(f"{path} {state}; run `dtpa questions` to regenerate it")
        typer.echo(f"{path} is up to date")
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {path}")
