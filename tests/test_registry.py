"""The registry of chapter facts matches the chapters it stands for."""

import pytest

from conftest import REPO_ROOT
from crispr_book.discovery import discover_notebooks, find_notebook
from crispr_models.core.registry import (
    CHAPTERS,
    LOO_CHAPTERS,
    RECOMMENDED,
    changed_defaults,
    chapter_facts,
    recommended_model,
)

NOTEBOOKS = {notebook.id: notebook for notebook in discover_notebooks(REPO_ROOT)}


def test_every_chapter_has_an_entry_and_every_entry_a_chapter():
    assert set(CHAPTERS) == set(NOTEBOOKS)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_entry_agrees_with_the_parameters_cell(chapter):
    declared = NOTEBOOKS[chapter].parameters
    facts = CHAPTERS[chapter]
    for name, default in facts.defaults.items():
        assert name in declared, f"{chapter}: {name} is not a parameter"
        assert declared[name].default == default, f"{chapter}: {name}"
    if facts.recommended:
        assert facts.recommended.target_accept == declared["target_accept"].default
    # the validation chapters' own defaults come from the registry's lists
    if "benchmark_models" in declared:
        assert set(declared["benchmark_models"].default) <= set(RECOMMENDED)
    if "comparison_chapters" in declared:
        assert declared["comparison_chapters"].default == LOO_CHAPTERS
        assert facts.reads == LOO_CHAPTERS


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_fit_names_and_loo_appear_in_the_chapter_source(chapter):
    source = NOTEBOOKS[chapter].path.read_text()
    facts = CHAPTERS[chapter]
    if facts.fit_name:
        assert f'name="{facts.fit_name}"' in source or f'"{facts.fit_name}"' in source
    assert ("compare_by_loo(" in source) == facts.loo


@pytest.mark.parametrize("chapter", RECOMMENDED)
def test_recommended_entry_builds_a_model_holding_its_parameters(chapter):
    entry = recommended_model(chapter)
    model = entry.model()
    names = {v.name for v in model.free_RVs + model.deterministics}
    assert set(entry.var_names) <= names
    assert "logfc_observed" in model.named_vars


def test_changed_defaults_names_what_a_run_changed():
    namespace = {"seed": 7, "num_genes": 5, "draws": 10}
    assert changed_defaults("m2", namespace) == {"seed": (103, 7)}
    assert changed_defaults("m2", {"seed": 103}) == {}


def test_unknown_chapter_is_refused():
    with pytest.raises(ValueError, match="chapter must be one of 'm1'"):
        recommended_model("m8")
    with pytest.raises(ValueError, match="chapter must be one of"):
        chapter_facts("m8")


def test_a_chapter_is_found_by_id():
    assert find_notebook(REPO_ROOT, "m2").id == "m2"
