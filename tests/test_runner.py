"""A failing notebook fails the run and the book, naming notebook and cell."""

import nbformat
import pytest

from conftest import copy_project, run_cli
from crispr_models.runner import cells_with_errors

BROKEN_NOTEBOOK = """# %% [markdown]
# # Model 0: a notebook that fails

# %% tags=["parameters"]
seed = 1  # a seed
artifacts_dir = ""  # set by the runner

# %%
print("before the failure")

# %%
raise ValueError("boom: the simulated screen is empty")
"""


@pytest.fixture(scope="module")
def broken_project(tmp_path_factory):
    root = copy_project(tmp_path_factory.mktemp("broken"), notebooks=False)
    (root / "notebooks" / "m0_broken.py").write_text(BROKEN_NOTEBOOK)
    return root


def test_failed_run_names_notebook_and_cell_and_keeps_the_notebook(broken_project):
    result = run_cli("--root", str(broken_project), "run", "m0", "--no-progress")
    assert result.returncode == 1
    assert "m0: cell In [4] failed with ValueError: boom" in result.stderr
    assert "raise ValueError" in result.stderr
    kept = broken_project / "book" / "generated" / "m0.ipynb"
    assert kept.exists()
    assert cells_with_errors(kept) == [4]  # In [1] is the injected parameters cell
    outputs = [o for c in nbformat.read(kept, 4).cells for o in c.get("outputs", [])]
    assert any("before the failure" in o.get("text", "") for o in outputs)


def test_failed_notebook_fails_the_book_without_building(broken_project):
    result = run_cli("--root", str(broken_project), "book", "--profile", "quick", "--no-progress")
    assert result.returncode == 1
    assert "m0: cell In [4] failed" in result.stderr
    assert "not building the book" in result.stderr
    assert not (broken_project / "_build").exists()


def test_build_only_refuses_a_notebook_left_failed_by_an_earlier_run(broken_project):
    run_cli("--root", str(broken_project), "run", "m0", "--no-progress")
    result = run_cli("--root", str(broken_project), "book", "--build-only")
    assert result.returncode == 1
    assert "m0 holds an error in cell In [4]" in result.stderr
    assert not (broken_project / "_build").exists()


def test_build_only_names_a_notebook_that_never_ran(tmp_path):
    root = copy_project(tmp_path, notebooks=False)
    (root / "notebooks" / "m0_broken.py").write_text(BROKEN_NOTEBOOK)
    result = run_cli("--root", str(root), "book", "--build-only")
    assert result.returncode == 1
    assert "m0 has not been run" in result.stderr
