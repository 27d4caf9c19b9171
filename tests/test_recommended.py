"""The recommended-model registry matches the chapters it stands for."""

import pytest

from conftest import REPO_ROOT
from crispr_models.notebooks import find_notebook
from crispr_models.recommended import RECOMMENDED, recommended_model


@pytest.mark.parametrize("chapter", RECOMMENDED)
def test_entry_uses_the_chapters_target_accept(chapter):
    notebook = find_notebook(REPO_ROOT, chapter)
    assert RECOMMENDED[chapter].target_accept == notebook.parameters["target_accept"].default


@pytest.mark.parametrize("chapter", RECOMMENDED)
def test_entry_builds_a_model_holding_its_parameters(chapter):
    entry = recommended_model(chapter)
    model = entry.model()
    names = {v.name for v in model.free_RVs + model.deterministics}
    assert set(entry.var_names) <= names
    assert "logfc_observed" in model.named_vars


def test_unknown_chapter_is_refused():
    with pytest.raises(ValueError, match="chapter must be one of 'm1'"):
        recommended_model("m8")
