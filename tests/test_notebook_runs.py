"""Each notebook end to end with the quick profile, through ``crispr-models run``."""

import arviz as az
import numpy as np
import pandas as pd
import pytest

from conftest import REPO_ROOT
from crispr_models.diagnostics import SUMMARY_COLUMNS
from crispr_models.notebooks import PROFILES, discover_notebooks
from crispr_models.runner import cells_with_errors
from crispr_models.simulation import simulate_sgrna_copy_number

pytestmark = pytest.mark.notebook
QUICK = PROFILES["quick"]
#: Each chapter's recommended model: its artifact name and some of its parameters.
EXPECTED = {
    "m1": ("single_gene_rna", ["alpha", "beta", "sigma"]),
    "m2": ("multigene_rna", ["mu_alpha", "sigma_alpha", "alpha[gene_A]", "beta[gene_E]"]),
    "m3": ("gene_level_predictor", ["mu_gamma", "delta", "alpha[gene_A]", "beta[gene_J]"]),
    "m4": ("zero_sum_cell_lines", ["mu_alpha", "gamma[cell_01]", "beta[gene_E]", "sigma"]),
    "m5": ("zero_sum_cell_lines", ["mu_gamma", "alpha[sgRNA_01]", "beta[cell_20]"]),
    "m6": ("copy_number", ["mu_gamma", "gamma[gene_C]", "beta[sgRNA_15]", "sigma"]),
    "m6global": ("global_intercept_zero_sum_genes", ["alpha_global", "gamma[gene_A]"]),
    "m6corr": ("correlated_effects", ["rho", "sigma_alpha", "sigma_beta", "beta[sgRNA_50]"]),
    "m7": ("hierarchical_7c", ["mu_gamma", "alpha[sgRNA_55]", "beta[cell_20]", "sigma"]),
}
NOTEBOOKS = [n.id for n in discover_notebooks(REPO_ROOT)]


def test_every_notebook_is_run_and_every_chapter_is_checked():
    assert set(NOTEBOOKS) == set(EXPECTED) | {"m6param"}


@pytest.mark.parametrize("notebook_id", NOTEBOOKS)
def test_run_succeeds_and_writes_the_executed_notebook(quick_project, notebook_id):
    root, runs = quick_project
    result = runs[notebook_id]
    assert result.returncode == 0, result.stderr[-3000:]
    executed = root / "book" / "generated" / f"{notebook_id}.ipynb"
    assert f"{notebook_id}: executed in" in result.stdout
    assert executed.exists()
    assert cells_with_errors(executed) == []


@pytest.mark.parametrize("notebook_id", EXPECTED)
def test_artifacts_hold_the_fit_and_its_convergence_fields(quick_project, notebook_id):
    root, _ = quick_project
    model_name, parameters = EXPECTED[notebook_id]
    artifacts = root / "book" / "generated" / notebook_id
    idata = az.from_netcdf(artifacts / f"{model_name}.nc")
    assert idata.posterior.sizes["chain"] == QUICK["chains"]
    assert idata.posterior.sizes["draw"] == QUICK["draws"]
    for group in ("prior", "prior_predictive", "posterior_predictive", "sample_stats"):
        assert group in idata.groups()
    assert idata.posterior.attrs["sampling_time"] > 0

    summary = pd.read_csv(artifacts / "summary.csv")
    assert list(summary.columns) == SUMMARY_COLUMNS
    assert set(parameters) <= set(summary["parameter"])
    assert (summary["model"] == model_name).all()
    assert summary["true_value"].notna().all()
    # The notebook's own convergence check (report.require()) let these through.
    assert (summary["r_hat"] <= 1.01).all()
    assert (summary["ess_bulk"] >= 100 * QUICK["chains"]).all()
    assert int(idata.sample_stats["diverging"].sum()) == 0


def test_parameterization_comparison_has_every_fit(quick_project):
    root, _ = quick_project
    table = pd.read_csv(root / "book" / "generated" / "m6param" / "parameterization_comparison.csv")
    assert len(table) == 6
    assert set(table["parameterization"]) == {"centred", "non-centred"}
    assert (table["sampling_seconds"] > 0).all()
    assert (table["min_ess_bulk"] > 0).all()
    np.testing.assert_allclose(
        table["ess_per_second"], table["min_ess_bulk"] / table["sampling_seconds"]
    )


def test_m6_notebook_fits_the_original_data(quick_project):
    root, _ = quick_project
    idata = az.from_netcdf(root / "book" / "generated" / "m6" / "copy_number.nc")
    original = simulate_sgrna_copy_number(np.random.RandomState(103)).observations
    np.testing.assert_array_equal(idata.observed_data["logfc"].values, original["logfc"])


def test_parameter_override_reaches_the_notebook(quick_project):
    root, _ = quick_project
    idata = az.from_netcdf(root / "book" / "generated" / "m1" / "single_gene_rna.nc")
    assert idata.observed_data.sizes["obs"] == 25  # -p num_cell_lines 25


def test_m2_notebook_fits_the_original_data(quick_project, multigene_data):
    root, _ = quick_project
    idata = az.from_netcdf(root / "book" / "generated" / "m2" / "multigene_rna.nc")
    np.testing.assert_array_equal(
        idata.observed_data["logfc"].values, multigene_data.observations["logfc"].to_numpy()
    )
