"""The sources stay readable: ruff-clean, and every notebook in the book's shape."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT
from crispr_book.discovery import discover_notebooks
from crispr_book.style import notebook_problems

NOTEBOOKS = discover_notebooks(REPO_ROOT)
#: The book's notebooks and the template new chapters start from.
NOTEBOOK_PATHS = [n.path for n in NOTEBOOKS] + sorted(
    (REPO_ROOT / "notebooks" / "templates").glob("*.py")
)


def _ruff() -> str:
    found = Path(sys.executable).parent / "ruff"
    return str(found) if found.exists() else shutil.which("ruff") or "ruff"


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_passes(command):
    result = subprocess.run([_ruff(), *command, "."], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", NOTEBOOK_PATHS, ids=lambda p: p.stem)
def test_notebook_has_title_parameters_conclusions_and_watermark_last(path):
    assert notebook_problems(path) == []


def test_a_notebook_out_of_shape_is_named_with_each_problem(tmp_path):
    path = tmp_path / "m0_shapeless.py"
    path.write_text("# %%\nseed = 1\n\n# %% [markdown]\n# Some prose.\n")
    problems = notebook_problems(path)
    assert len(problems) == 4 and all(p.startswith(f"{path}: ") for p in problems)
    assert "H1 title" in problems[0] and "tagged 'parameters'" in problems[1]
    assert "Conclusions" in problems[2] and "watermark" in problems[3]
    # as the pre-commit hook runs it
    script = REPO_ROOT / "src" / "crispr_book" / "style.py"
    command = [sys.executable, str(script), str(path)]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout.splitlines() == problems


PLUMBING_ON_THE_PAGE = """\
# %% [markdown]
# # Model 0: plumbing on the page
#
# ## Data

# %%
import time

start = time.perf_counter()

# %% tags=["parameters"]
seed = 1

# %% [markdown]
# ## Conclusions
#
# - Something.

# %%
print(time.perf_counter() - start)

# %%
# %load_ext watermark
# %watermark
"""


def test_plumbing_on_the_page_is_named(tmp_path):
    path = tmp_path / "m0_plumbing.py"
    path.write_text(PLUMBING_ON_THE_PAGE)
    problems = "\n".join(notebook_problems(path))
    assert "hide-cell" in problems
    assert "no timer" in problems
    assert "heading '## Data' must be followed by a sentence" in problems
    assert "after the Conclusions only the watermark is shown" in problems


def test_notebooks_import_only_the_science():
    """The ruff rule behind it (TID251) fires on a chapter importing the machinery."""
    source = "from crispr_book.runner import run_notebook\n"
    result = subprocess.run(
        [_ruff(), "check", "--stdin-filename", "notebooks/m0_x.py", "-"],
        cwd=REPO_ROOT,
        input=source,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "TID251" in result.stdout
