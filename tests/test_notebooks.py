"""Notebook discovery, the parameters cell and override checks: no kernel starts."""

import pytest

from conftest import REPO_ROOT, copy_project
from crispr_book.discovery import (
    PROFILES,
    NotebookNotFound,
    ParameterError,
    discover_notebooks,
    find_notebook,
    find_project_root,
    parse_parameters_cell,
)


@pytest.fixture(scope="module")
def m2():
    return find_notebook(REPO_ROOT, "m2")


def test_notebooks_come_in_book_order():
    ids = [n.id for n in discover_notebooks(REPO_ROOT)]
    series = ["m1", "m2", "m3", "m4", "m5", "m6", "m6param", "m6global", "m6corr", "m7"]
    assert ids == [*series, "ppc", "sbc", "loo", "bench", "screen"]


def test_every_notebook_has_the_standard_parameters():
    required = {"seed", "draws", "tune", "chains", "sampler", "target_accept", "artifacts_dir"}
    for notebook in discover_notebooks(REPO_ROOT):
        if notebook.id.startswith("m"):  # the model series; validation has its own
            assert required <= set(notebook.parameters), notebook.id
            assert notebook.title.startswith("Model"), notebook.id


def test_m2_defaults_are_the_originals(m2):
    parameters = m2.parameters
    assert parameters["seed"].default == 103
    assert parameters["true_sigma"].default == 0.5
    assert (
        parameters["chains"].default,
        parameters["tune"].default,
        parameters["draws"].default,
    ) == (4, 2000, 2000)
    assert parameters["num_genes"].description == "genes in the screen"


def test_parse_parameters_cell_reads_names_defaults_and_comments():
    parsed = parse_parameters_cell('a = 1  # one\nb = "x"\nc = [1, 2]  # list\n')
    assert {n: (p.default, p.description) for n, p in parsed.items()} == {
        "a": (1, "one"),
        "b": ("x", ""),
        "c": ([1, 2], "list"),
    }


def test_parameters_cell_refuses_code():
    with pytest.raises(ValueError, match="literal"):
        parse_parameters_cell("a = compute()\n")
    with pytest.raises(ValueError, match="name = literal"):
        parse_parameters_cell("import os\n")


def test_quick_profile_applies_only_declared_settings(m2):
    declared = {k: v for k, v in PROFILES["quick"].items() if k in m2.parameters}
    assert set(declared) == {"draws", "tune", "chains", "prior_draws"}
    assert m2.resolve("quick", {}) == declared
    assert m2.resolve("full", {}) == {}


def test_overrides_are_typed_from_the_defaults(m2):
    resolved = m2.resolve(
        "full",
        {"num_genes": "8", "true_sigma": "0.25", "reproduce_original": "false", "sampler": "pymc"},
    )
    assert resolved == {
        "num_genes": 8,
        "true_sigma": 0.25,
        "reproduce_original": False,
        "sampler": "pymc",
    }


def test_override_beats_profile(m2):
    assert m2.resolve("quick", {"draws": "50"})["draws"] == 50


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("num_genes", "-3", "num_genes.*positive integer"),
        ("num_genes", "2.5", "num_genes.*positive integer"),
        ("chains", "two", "chains.*positive integer"),
        ("draws", "0", "draws.*positive integer"),
        ("true_sigma", "-1", "true_sigma.*positive number"),
        ("true_mu_alpha", "nan", "true_mu_alpha.*finite number"),
        ("target_accept", "1.5", "target_accept.*between 0 and 1"),
        ("sampler", "stan", "sampler.*nutpie, pymc, numpyro"),
        ("reproduce_original", "maybe", "reproduce_original.*true or false"),
        ("seed", "-1", "seed.*non-negative integer"),
    ],
)
def test_bad_values_are_refused_naming_parameter_and_accepted_values(m2, name, value, message):
    with pytest.raises(ParameterError, match=message):
        m2.resolve("full", {name: value})


def test_unknown_parameter_lists_the_accepted_ones(m2):
    with pytest.raises(ParameterError, match="unknown parameter 'num_gene'.*num_genes"):
        m2.resolve("full", {"num_gene": "3"})


def test_runner_parameters_cannot_be_overridden(m2):
    with pytest.raises(ParameterError, match="--out"):
        m2.resolve("full", {"artifacts_dir": "/tmp"})


def test_unknown_profile_and_notebook_are_refused(m2):
    with pytest.raises(ParameterError, match="quick"):
        m2.resolve("fast", {})
    with pytest.raises(NotebookNotFound, match="m1, m2"):
        find_notebook(REPO_ROOT, "m9")


def test_project_root_is_found_from_a_subfolder(tmp_path):
    root = copy_project(tmp_path / "project")
    (root / "book" / "deep").mkdir(parents=True)
    assert find_project_root(root / "book" / "deep") == root.resolve()


@pytest.mark.parametrize(
    "notebook_id, name, text, accepted",
    [
        ("m6", "parameterization", "centered", "centred, non_centred"),
        ("m4", "short_draws", "0", "positive integer"),
        ("m6corr", "lkj_eta", "-2", "positive number"),
        ("m6", "copy_number_rates", "(1.0,", "Python literal"),
        ("sbc", "thin", "0", "positive integer"),
        ("sbc", "num_simulations", "-5", "positive integer"),
        ("bench", "benchmark_models", "('m1', 'm99')", "chapter ids from m1"),
        ("bench", "benchmark_models", "'m1'", "chapter ids from m1"),
        ("loo", "comparison_chapters", "('m1',)", "chapter ids from m4"),
    ],
)
def test_series_parameters_are_refused_naming_what_they_accept(notebook_id, name, text, accepted):
    notebook = find_notebook(REPO_ROOT, notebook_id)
    with pytest.raises(ParameterError, match=accepted):
        notebook.resolve("full", {name: text})


def test_tuple_parameters_parse_as_literals():
    notebook = find_notebook(REPO_ROOT, "m5")
    resolved = notebook.resolve("full", {"sgrnas_per_gene": "(2, 2, 2)"})
    assert resolved["sgrnas_per_gene"] == (2, 2, 2)
