"""The page's code comes from the source: model_code, every chapter that
fits a model shows it, and the API page lists every module of the science."""

import pkgutil
import re

import pytest

import crispr_models
from conftest import REPO_ROOT
from crispr_book.discovery import discover_notebooks
from crispr_models.core.prose import model_code
from crispr_models.screen import model as screen_model
from crispr_models.series import models
from crispr_models.series.models import multigene_rna_model, sgrna_cell_line_model

#: Functions that build a PyMC model, by name: what a chapter must show.
MODEL_BUILDERS = {
    name
    for module in (models, screen_model)
    for name in dir(module)
    if name.endswith("_model") and callable(getattr(module, name))
}
CELL = re.compile(r'# %% tags=\["remove-input", "hide-output"\]\nmodel_code\(([^)]*)\)', re.S)


def test_model_code_is_the_installed_source_as_python_blocks():
    shown = model_code(multigene_rna_model, sgrna_cell_line_model).data
    assert shown.count("```python\n") == 2
    assert "def multigene_rna_model(observations" in shown
    assert "def sgrna_cell_line_model(" in shown
    assert "pm.Model(" in shown
    with pytest.raises(ValueError, match="at least one function"):
        model_code()


@pytest.mark.parametrize("notebook", discover_notebooks(REPO_ROOT), ids=lambda n: n.id)
def test_every_model_a_chapter_builds_is_shown_folded_before_its_first_use(notebook):
    source = notebook.path.read_text()
    built = {name for name in MODEL_BUILDERS if re.search(rf"(?<![\w.]){name}\(", source)}
    shown = CELL.search(source)
    if not built:
        assert shown is None, f"{notebook.id} shows model code but builds no model"
        return
    assert shown, f"{notebook.id}: no folded model_code(...) cell"
    assert {name.strip() for name in shown.group(1).split(",") if name.strip()} == built
    before = source[: shown.start()]
    used_before = [name for name in built if re.search(rf"(?<![\w.]){name}\(", before)]
    assert used_before == [], f"{notebook.id} builds {used_before} before showing the code"


def test_the_api_page_documents_every_module_of_the_science():
    page = (REPO_ROOT / "book" / "api.md").read_text()
    documented = set(re.findall(r"^\.\. automodule:: (crispr_models\.[\w.]+)$", page, re.M))
    modules = {
        m.name
        for m in pkgutil.walk_packages(crispr_models.__path__, "crispr_models.")
        if not m.ispkg
    }
    assert documented == modules
