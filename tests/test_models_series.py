"""Model builders of models 3 to 7: structure, identifiability options, bad input."""

import numpy as np
import pandas as pd
import pymc as pm
import pytest

from conftest import QUICK
from crispr_models.checks.diagnostics import recovery_table
from crispr_models.core.fitting import fit, sample_prior_predictive
from crispr_models.series.models import (
    additive_gene_cell_line_model,
    correlated_sgrna_copy_number_model,
    gene_by_cell_line_model,
    gene_cell_line_rna_model,
    gene_level_predictor_model,
    misplaced_predictor_model,
    replicated_intercept_model,
    sgrna_by_cell_line_model,
    sgrna_cell_line_model,
    sgrna_copy_number_model,
)
from crispr_models.series.simulation import (
    simulate_gene_cell_line_rna,
    simulate_gene_level_predictor,
    simulate_sgrna_cell_line,
    simulate_sgrna_copy_number,
    zero_sum_truth,
)

#: Real sampling or many kernels: in make test, not in make test-fast.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def predictor_data():
    return simulate_gene_level_predictor(np.random.default_rng(1)).observations


@pytest.fixture(scope="module")
def cell_line_data():
    return simulate_gene_cell_line_rna(np.random.default_rng(1)).observations


@pytest.fixture(scope="module")
def sgrna_data():
    return simulate_sgrna_cell_line(np.random.default_rng(1))


@pytest.fixture(scope="module")
def copy_number_data():
    return simulate_sgrna_copy_number(np.random.RandomState(103)).observations


def _free(model: pm.Model) -> set[str]:
    return {v.name for v in model.free_RVs}


BUILDERS = [
    ("predictor_data", misplaced_predictor_model, {}),
    ("predictor_data", gene_level_predictor_model, {}),
    ("predictor_data", replicated_intercept_model, {}),
    ("cell_line_data", gene_cell_line_rna_model, {"cell_line_effect": "free"}),
    ("cell_line_data", gene_cell_line_rna_model, {"cell_line_effect": "zero_sum"}),
    ("cell_line_data", gene_cell_line_rna_model, {"scale_prior": "halfnormal"}),
    ("sgrna_data", sgrna_cell_line_model, {"cell_line_effect": "free"}),
    ("sgrna_data", sgrna_cell_line_model, {}),
    ("sgrna_data", gene_by_cell_line_model, {}),
    ("sgrna_data", sgrna_by_cell_line_model, {}),
    ("sgrna_data", additive_gene_cell_line_model, {}),
    ("copy_number_data", sgrna_copy_number_model, {}),
    ("copy_number_data", sgrna_copy_number_model, {"parameterization": "non_centred"}),
    ("copy_number_data", sgrna_copy_number_model, {"covariate": "cna_z"}),
    ("copy_number_data", sgrna_copy_number_model, {"covariate": "cna_diploid"}),
    ("copy_number_data", sgrna_copy_number_model, {"global_intercept": "redundant"}),
    ("copy_number_data", sgrna_copy_number_model, {"global_intercept": "zero_sum"}),
    ("copy_number_data", correlated_sgrna_copy_number_model, {}),
]


@pytest.mark.parametrize("fixture, builder, kwargs", BUILDERS)
def test_log_probability_is_finite_at_the_initial_point(request, fixture, builder, kwargs):
    data = request.getfixturevalue(fixture)
    observations = data.observations if hasattr(data, "observations") else data
    model = builder(observations, **kwargs)
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    assert model.named_vars_to_dims["logfc"] == ("obs",)


def test_misplaced_predictor_gives_one_intercept_per_row(predictor_data):
    model = misplaced_predictor_model(predictor_data)
    assert model.named_vars_to_dims["alpha"] == ("obs",)
    assert model["alpha"].shape.eval()[0] == len(predictor_data)


def test_replicated_intercepts_are_one_per_gene_and_cell_line(predictor_data):
    model = replicated_intercept_model(predictor_data)
    pairs = predictor_data.groupby(["gene", "cell_line"], observed=True).ngroups
    assert model.named_vars_to_dims["alpha"] == ("gene", "cell_line")
    assert model["alpha"].shape.eval().prod() == pairs == len(predictor_data) // 3
    # each pair's expression is the one its replicates share
    rna = model["rna_by_gene_and_cell_line"].get_value()
    first = predictor_data.iloc[0]
    genes, lines = list(model.coords["gene"]), list(model.coords["cell_line"])
    assert rna[genes.index(first["gene"]), lines.index(first["cell_line"])] == first["rna"]


def test_gene_level_predictor_enters_the_gene_prior(predictor_data):
    model = gene_level_predictor_model(predictor_data)
    assert {"mu_gamma", "delta", "sigma_gamma", "alpha", "beta"} <= _free(model)
    assert model.named_vars_to_dims["alpha"] == ("gene",)
    assert model["gene_expression"].get_value().shape == (10,)


def test_gene_level_predictor_must_be_constant_within_gene(predictor_data):
    broken = predictor_data.assign(gene_expression=np.arange(len(predictor_data), dtype=float))
    with pytest.raises(ValueError, match="gene_expression"):
        gene_level_predictor_model(broken)


def test_zero_sum_cell_lines_drop_their_mean_and_sum_to_zero(cell_line_data):
    free = gene_cell_line_rna_model(cell_line_data, cell_line_effect="free")
    zero_sum = gene_cell_line_rna_model(cell_line_data, cell_line_effect="zero_sum")
    assert "mu_gamma" in _free(free)
    assert "mu_gamma" not in _free(zero_sum)
    prior = sample_prior_predictive(zero_sum, np.random.default_rng(0), draws=20).prior
    np.testing.assert_allclose(prior["gamma"].sum("cell_line"), 0, atol=1e-8)


def test_scale_prior_choice_changes_the_scale_distributions(cell_line_data):
    model = gene_cell_line_rna_model(cell_line_data, scale_prior="halfnormal")
    assert model["sigma"].owner.op.name == "halfnormal"
    model = gene_cell_line_rna_model(cell_line_data)
    assert model["sigma"].owner.op.name == "exponential"


def test_non_centred_samples_standard_normals(copy_number_data):
    model = sgrna_copy_number_model(copy_number_data, parameterization="non_centred")
    assert {"gamma_z", "delta_z", "alpha_z", "beta_z"} <= _free(model)
    assert {"gamma", "alpha"} <= {v.name for v in model.deterministics}


def test_global_intercept_options(copy_number_data):
    redundant = sgrna_copy_number_model(copy_number_data, global_intercept="redundant")
    zero_sum = sgrna_copy_number_model(copy_number_data, global_intercept="zero_sum")
    assert {"alpha_global", "mu_gamma"} <= _free(redundant)
    assert "alpha_global" in _free(zero_sum) and "mu_gamma" not in _free(zero_sum)


def test_correlated_model_exposes_rho_and_the_sds(copy_number_data):
    model = correlated_sgrna_copy_number_model(copy_number_data)
    assert {"rho", "sigma_alpha", "sigma_beta", "alpha", "beta"} <= {
        v.name for v in model.deterministics
    }
    prior = sample_prior_predictive(model, np.random.default_rng(0), draws=200).prior
    assert ((prior["rho"] > -1) & (prior["rho"] < 1)).all()


@pytest.mark.parametrize(
    "fixture, builder, kwargs, message",
    [
        (
            "cell_line_data",
            gene_cell_line_rna_model,
            {"cell_line_effect": "sum_to_zero"},
            "cell_line_effect",
        ),
        ("cell_line_data", gene_cell_line_rna_model, {"scale_prior": "cauchy"}, "scale_prior"),
        ("copy_number_data", sgrna_copy_number_model, {"covariate": "copies"}, "covariate"),
        (
            "copy_number_data",
            sgrna_copy_number_model,
            {"parameterization": "centered"},
            "parameterization",
        ),
        (
            "copy_number_data",
            sgrna_copy_number_model,
            {"global_intercept": "yes"},
            "global_intercept",
        ),
        ("copy_number_data", correlated_sgrna_copy_number_model, {"eta": 0}, "eta"),
    ],
)
def test_builders_refuse_unknown_options_naming_them(request, fixture, builder, kwargs, message):
    with pytest.raises(ValueError, match=message):
        builder(request.getfixturevalue(fixture), **kwargs)


def test_an_sgrna_may_target_one_gene_only(sgrna_data):
    broken = sgrna_data.observations.copy()
    broken["gene"] = broken["gene"].cat.add_categories(["gene_X"])
    broken.loc[0, "gene"] = "gene_X"
    with pytest.raises(ValueError, match="one gene"):
        sgrna_cell_line_model(broken)


def test_copy_number_model_refuses_negative_infinite_copy_numbers(copy_number_data):
    broken = copy_number_data.assign(cna=np.inf)
    with pytest.raises(ValueError, match="cna"):
        sgrna_copy_number_model(broken)
    with pytest.raises(ValueError, match="cna_z"):
        sgrna_copy_number_model(copy_number_data.drop(columns="cna_z"), covariate="cna_z")


def test_zero_sum_sgrna_model_recovers_the_truth_within_posterior_sd(sgrna_data):
    """Hierarchical 7c on model 5's data: every scalar and every cell-line effect
    within four posterior sds of the identifiable truth."""
    model = sgrna_cell_line_model(sgrna_data.observations)
    idata = fit(model, np.random.default_rng(11), QUICK)
    truth = zero_sum_truth(sgrna_data.truth, "beta", absorbed=("alpha", "gamma", "mu_gamma"))
    table = recovery_table(idata, truth, "m5", ["mu_gamma", "sigma_alpha", "beta", "sigma"])
    z = (table["mean"] - table["true_value"]).abs() / table["sd"]
    assert (z < 4).all(), table.loc[z >= 4, ["parameter", "mean", "sd", "true_value"]]
    assert pd.notna(table["true_value"]).all()
