"""The questions reference (docs/questions.md) is generated, complete, and never stale."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.facts.schema import MODELS, fact_specs
from engine.knowledge.pack import load_pack
from engine.knowledge.questions_doc import DEFAULT_PATH, render

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(scope="module")
def pack():
    return load_pack()


@pytest.fixture(scope="module")
def text(pack):
    return render(pack)


def _part(text: str, context: str) -> str:
    """The section of the reference that documents one context."""
    start = text.index(f"## Context `{context}`")
    end = text.find("\n## Context ", start + 1)
    return text[start:] if end < 0 else text[start:end]


def _row(part: str, path: str) -> str:
    rows = [line for line in part.splitlines() if line.startswith(f"| `{path}` |")]
    assert len(rows) == 1, f"{path}: expected one row, found {len(rows)}"
    return rows[0]


def test_committed_reference_is_up_to_date(text):
    committed = (ROOT / DEFAULT_PATH).read_text(encoding="utf-8")
    assert committed == text, (
        f"{DEFAULT_PATH} is stale: run `.venv/bin/dtpa questions` and commit the result")


def test_rendering_is_deterministic(pack, text):
    assert render(pack) == text


@pytest.mark.parametrize("context", list(MODELS))
def test_every_question_and_derived_fact_has_a_row(text, context):
    part = _part(text, context)
    for path, spec in fact_specs(context).items():
        row = _row(part, path)
        if not spec.asked:
            assert "derived count" in row and f"computed from `{spec.source}`" in row


@pytest.mark.parametrize("context", list(MODELS))
def test_a_fact_row_names_the_rules_that_read_it(pack, text, context):
    loaded = min(pack.rules_for(context), key=lambda r: r.rule.id)
    path = sorted(loaded.facts(context))[0]
    assert loaded.rule.id in _row(_part(text, context), path)


def test_check_fails_on_a_stale_copy_and_passes_on_a_fresh_one(tmp_path):
    target = tmp_path / "questions.md"
    result = runner.invoke(app, ["questions", "--check", "--out", str(target)])
    assert result.exit_code == 1 and "is missing" in result.output

    result = runner.invoke(app, ["questions", "--out", str(target)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["questions", "--check", "--out", str(target)])
    assert result.exit_code == 0, result.output

    target.write_text(target.read_text(encoding="utf-8") + "a hand edit\n", encoding="utf-8")
    result = runner.invoke(app, ["questions", "--check", "--out", str(target)])
    assert result.exit_code == 1
    assert f"Error: {target} is out of date" in result.output
    assert "run `dtpa questions`" in result.output
