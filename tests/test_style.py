"""The sources stay readable: ruff-clean, and every notebook in the book's shape."""

import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

from conftest import REPO_ROOT
from crispr_models.notebooks import discover_notebooks

NOTEBOOKS = discover_notebooks(REPO_ROOT)


def _ruff() -> str:
    found = Path(sys.executable).parent / "ruff"
    return str(found) if found.exists() else shutil.which("ruff") or "ruff"


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_passes(command):
    result = subprocess.run([_ruff(), *command, "."], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda n: n.id)
def test_notebook_has_title_parameters_and_watermark_last(notebook):
    cells = jupytext.read(notebook.path).cells
    assert cells[0].cell_type == "markdown"
    assert cells[0].source.startswith("# "), "the first cell opens with an H1 title"
    tagged = [c for c in cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert cells[-1].cell_type == "code"
    assert "%watermark" in cells[-1].source, "the watermark is the last cell"
    assert any("## Conclusions" in c.source for c in cells if c.cell_type == "markdown")
