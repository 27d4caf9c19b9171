import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from conftest import QUICK
from crispr_models.checks.diagnostics import (
    FIT_STATUSES,
    HDI_LOWER,
    HDI_UPPER,
    SUMMARY_COLUMNS,
    ConvergenceError,
    convergence_report,
    coverage,
    coverage_summary,
    fit_summary,
    least_squares_by_gene,
    posterior_draws,
    recovery_table,
    sampling_efficiency,
    shrinkage_table,
)


def _idata(posterior: dict, diverging: np.ndarray | None = None) -> xr.DataTree:
    shape = next(iter(posterior.values())).shape[:2]
    stats = {"diverging": diverging if diverging is not None else np.zeros(shape, dtype=bool)}
    return az.from_dict({"posterior": posterior, "sample_stats": stats})


def test_report_passes_a_clean_fit(multigene_fit):
    report = convergence_report(multigene_fit)
    assert report.passed, str(report)
    assert report.divergences == 0
    assert report.max_r_hat <= 1.01
    assert report.ess_min == 100 * multigene_fit.posterior.sizes["chain"]
    report.require()
    assert "Convergence passed" in str(report)
    assert "<table" in report._repr_html_()


def test_report_fails_chains_that_disagree():
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(4, 500))
    draws[0] += 3.0  # one chain stuck elsewhere
    report = convergence_report(_idata({"theta": draws}))
    assert report.max_r_hat > 1.01
    assert not report.passed
    with pytest.raises(ConvergenceError, match="r-hat"):
        report.require()


def test_report_counts_divergences_and_low_ess():
    rng = np.random.default_rng(0)
    # A random walk: strongly autocorrelated, so few effective draws.
    walk = np.cumsum(rng.normal(size=(4, 500)), axis=1)
    diverging = np.zeros((4, 500), dtype=bool)
    diverging[1, :7] = True
    report = convergence_report(_idata({"theta": walk}, diverging))
    assert report.divergences == 7
    assert report.min_ess_bulk < 400
    failed = set(report.checks.loc[~report.checks["passed"], "check"].str.split().str[0])
    assert {"divergences", "min"} <= failed


def test_recovery_table_marks_coverage_against_known_posteriors():
    rng = np.random.default_rng(0)
    idata = _idata(
        {
            "sigma": np.abs(rng.normal(1.0, 0.1, size=(2, 1000))),
            "alpha": rng.normal(0.0, 1.0, size=(2, 1000, 2)),
        }
    )
    idata["posterior"] = (
        idata["posterior"]
        .to_dataset()
        .rename({"alpha_dim_0": "gene"})
        .assign_coords(gene=["gene_A", "gene_B"])
    )
    truth = {"sigma": 1.0, "alpha": pd.Series([0.0, 5.0], index=["gene_A", "gene_B"])}
    table = recovery_table(idata, truth, "toy")
    assert list(table.columns) == SUMMARY_COLUMNS
    rows = table.set_index("parameter")
    assert rows.loc["alpha[gene_A]", "true_value"] == 0.0
    assert bool(rows.loc["alpha[gene_A]", "hdi_covers_truth"]) is True
    assert bool(rows.loc["alpha[gene_B]", "hdi_covers_truth"]) is False
    assert bool(rows.loc["sigma", "hdi_covers_truth"]) is True
    assert coverage(table) == pytest.approx(2 / 3)
    assert (table["fit"] == "toy").all()
    report = convergence_report(idata)
    assert "covers the truth for 2 of 3 parameters (67%)" in fit_summary(report, table)


def test_recovery_table_on_the_fitted_model(multigene_fit, multigene_data):
    table = recovery_table(multigene_fit, multigene_data.truth, "multigene_rna")
    assert len(table) == 4 + 5 + 5 + 1
    assert table["true_value"].notna().all()
    assert (table[HDI_LOWER] < table[HDI_UPPER]).all()


def test_least_squares_recovers_noise_free_lines():
    rna = np.linspace(-2, 2, 10)
    data = pd.DataFrame(
        {
            "gene": pd.Categorical(["a"] * 10 + ["b"] * 10),
            "rna": np.concatenate([rna, rna]),
            "logfc": np.concatenate([1 + 2 * rna, -1 - 0.5 * rna]),
        }
    )
    fitted = least_squares_by_gene(data)
    np.testing.assert_allclose(fitted.loc["a"], [1, 2])
    np.testing.assert_allclose(fitted.loc["b"], [-1, -0.5])


def test_sampling_efficiency_reports_cost_and_yield(multigene_fit):
    efficiency = sampling_efficiency(multigene_fit, ["alpha", "sigma"])
    assert efficiency["divergences"] == int(multigene_fit.sample_stats["diverging"].sum())
    assert efficiency["sampling_seconds"] == multigene_fit.posterior.attrs["sampling_time"]
    assert efficiency["ess_per_second"] == pytest.approx(
        efficiency["min_ess_bulk"] / efficiency["sampling_seconds"]
    )
    assert 1 <= efficiency["max_tree_depth"] <= 10
    report = convergence_report(multigene_fit, ["alpha", "sigma"])
    assert efficiency["converged"] == report.passed
    assert efficiency["min_ess_bulk"] == report.min_ess_bulk


def test_posterior_draws_flattens_elements_and_refuses_vectors(multigene_fit):
    draws = posterior_draws(multigene_fit, ["sigma", "alpha[gene_B]"])
    assert list(draws.columns) == ["sigma", "alpha[gene_B]"]
    assert len(draws) == QUICK.chains * QUICK.draws
    np.testing.assert_allclose(
        draws["alpha[gene_B]"].mean(), multigene_fit.posterior["alpha"].sel(gene="gene_B").mean()
    )
    with pytest.raises(ValueError, match="not a scalar"):
        posterior_draws(multigene_fit, ["alpha"])
    with pytest.raises(ValueError, match="not in the posterior"):
        posterior_draws(multigene_fit, ["epsilon"])


@pytest.mark.parametrize("status", ["pathological", "other_question", "structural_flaw"])
def test_a_fit_not_to_use_says_why(multigene_fit, status):
    report = convergence_report(multigene_fit, status=status)
    assert FIT_STATUSES[status] in str(report)
    assert "not a model to use" in report._repr_html_()
    assert "not a model to use" not in str(convergence_report(multigene_fit))


def test_coverage_summary_counts_only_known_truths():
    table = pd.DataFrame({"hdi_covers_truth": [True, False, np.nan, True]})
    assert coverage_summary(table) == "94 % HDI covers the truth for 2 of 3 parameters (67%)"


def test_recovery_table_marks_a_pathological_fit(multigene_fit, multigene_data):
    table = recovery_table(
        multigene_fit, multigene_data.truth, "short_run", ["sigma"], status="pathological"
    )
    assert (table["status"] == "pathological").all()
    with pytest.raises(
        ValueError,
        match="status must be one of 'use', 'pathological', 'other_question', 'structural_flaw'",
    ):
        recovery_table(multigene_fit, multigene_data.truth, "x", ["sigma"], status="bad")


def test_shrinkage_table_sets_raw_means_beside_the_posterior(multigene_fit, multigene_data):
    observations = multigene_data.observations
    table = shrinkage_table(observations, multigene_fit, "alpha", multigene_data.truth["alpha"])
    assert list(table.columns) == ["gene", "size", "raw", "pooled", "pooled_sd", "true_value"]
    raw = observations.groupby("gene", observed=True)["logfc"].mean()
    np.testing.assert_allclose(table["raw"], raw.reindex(table["gene"]).to_numpy())
    np.testing.assert_allclose(
        table["pooled"], multigene_fit.posterior["alpha"].mean(("chain", "draw")).to_numpy()
    )
    assert (table["size"] == observations.groupby("gene", observed=True).size().iloc[0]).all()
    with pytest.raises(ValueError, match="runs over 'gene', not a column"):
        shrinkage_table(observations.drop(columns="gene"), multigene_fit, "alpha")
