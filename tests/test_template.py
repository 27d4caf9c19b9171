"""The notebook template CONTRIBUTING.md names runs as a chapter of the book."""

import shutil

import pytest

from conftest import REPO_ROOT, copy_project, run_cli
from crispr_book.runner import cells_with_errors
from crispr_book.style import notebook_problems
from crispr_models.core.registry import GENERATED_DIR

pytestmark = pytest.mark.notebook
TEMPLATE = REPO_ROOT / "notebooks" / "templates" / "model_experiment.py"


def test_contributing_names_the_template():
    assert "notebooks/templates/model_experiment.py" in (REPO_ROOT / "CONTRIBUTING.md").read_text()


def test_the_template_copied_as_a_chapter_runs_and_converges(tmp_path):
    root = copy_project(tmp_path, notebooks=False)
    shutil.copy(TEMPLATE, root / "notebooks" / "m99_template_check.py")
    assert notebook_problems(root / "notebooks" / "m99_template_check.py") == []
    result = run_cli("--root", str(root), "run", "m99", "--profile", "quick", "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    executed = root / GENERATED_DIR / "m99.ipynb"
    assert cells_with_errors(executed) == []
    assert "Convergence passed" in executed.read_text()  # the report's display
    assert (root / GENERATED_DIR / "m99" / "template_model.nc").exists()
    assert (root / GENERATED_DIR / "m99" / "summary.csv").exists()
