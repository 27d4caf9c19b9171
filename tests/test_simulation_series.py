"""Simulations of models 3 to 7: the original m6 draw, shapes, truths, bad input."""

import numpy as np
import pandas as pd
import pytest

from crispr_models.series.simulation import (
    global_intercept_truth,
    sgrna_names,
    simulate_gene_cell_line_rna,
    simulate_gene_level_predictor,
    simulate_sgrna_cell_line,
    simulate_sgrna_copy_number,
    z_scored_truth,
    zero_sum_truth,
)

# Issue 3: the original model 6 draw, RandomState(103).
ORIGINAL_GAMMA = [-1.124639, -0.630166, -0.308103, -0.692731, -1.042568]
ORIGINAL_DELTA = [1.327219, -0.569207, -0.567684, -1.980011, -1.631965]
ORIGINAL_FIRST_CNA = [2.016189, 0.113033, 1.848434, 0.0, 0.970350]


@pytest.fixture(scope="module")
def copy_number_data():
    return simulate_sgrna_copy_number(np.random.RandomState(103))


def test_m6_reproduces_the_original_true_values_and_copy_numbers(copy_number_data):
    truth, observations = copy_number_data.truth, copy_number_data.observations
    np.testing.assert_allclose(truth["gamma"], ORIGINAL_GAMMA, atol=5e-7)
    np.testing.assert_allclose(truth["delta"], ORIGINAL_DELTA, atol=5e-7)
    np.testing.assert_allclose(observations["cna"][:5], ORIGINAL_FIRST_CNA, atol=5e-7)


def test_m6_reproduces_the_original_code_draw_for_draw(copy_number_data):
    # The seed notebook's loops, with its global np.random replaced by a RandomState.
    random = np.random.RandomState(103)
    gamma = random.normal(-0.5, 0.5, 5)
    delta = random.normal(-1, 1, 5)
    alpha, beta = [], []
    for gene, count in enumerate([1, 2, 3, 4, 5]):
        for _ in range(count):
            alpha.append(random.normal(gamma[gene], 0.2))
            beta.append(random.normal(delta[gene], 0.2))
    rows_gene = np.repeat(np.repeat(np.arange(5), [1, 2, 3, 4, 5]), 20)
    rows_sgrna = np.repeat(np.arange(15), 20)
    rates = [1, 0.8, -1, 1.5, 2]
    cna = []
    for gene in rows_gene:
        copies = 2 if rates[gene] == -1 else random.poisson(lam=rates[gene])
        cna.append(max(copies + random.normal(0, 0.1, 1)[0], 0))
    logfc = [
        random.normal(alpha[s] + beta[s] * c, 0.3) for s, c in zip(rows_sgrna, cna, strict=True)
    ]
    observations = copy_number_data.observations
    np.testing.assert_array_equal(copy_number_data.truth["alpha"], alpha)
    np.testing.assert_array_equal(copy_number_data.truth["beta"], beta)
    np.testing.assert_array_equal(observations["cna"], cna)
    np.testing.assert_array_equal(observations["logfc"], logfc)


def test_m6_layout_and_z_scored_copy_number(copy_number_data):
    observations = copy_number_data.observations
    assert len(observations) == 300
    assert list(observations["sgrna"].cat.categories) == sgrna_names(15)
    assert observations.groupby("sgrna", observed=True)["gene"].nunique().eq(1).all()
    z = observations.groupby("gene", observed=True)["cna_z"]
    np.testing.assert_allclose(z.mean(), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(ddof=0), 1)


def test_z_scored_truth_predicts_the_same_means(copy_number_data):
    observations, truth = copy_number_data.observations, copy_number_data.truth
    rescaled = z_scored_truth(truth, observations)
    sgrna = observations["sgrna"].astype(str)
    raw = truth["alpha"][sgrna].to_numpy() + truth["beta"][sgrna].to_numpy() * observations["cna"]
    z = (
        rescaled["alpha"][sgrna].to_numpy()
        + rescaled["beta"][sgrna].to_numpy() * observations["cna_z"]
    )
    np.testing.assert_allclose(raw, z)


def test_correlated_effects_have_the_requested_correlation():
    data = simulate_sgrna_copy_number(
        np.random.default_rng(5),
        sgrnas_per_gene=(2000,),
        num_cell_lines=1,
        copy_number_rates=(1.0,),
        sigma_alpha=0.5,
        sigma_beta=0.5,
        rho=-0.6,
    )
    alpha, beta = data.truth["alpha"], data.truth["beta"]
    correlation = np.corrcoef(alpha, beta)[0, 1]
    # sd of a sample correlation is about (1 - rho^2) / sqrt(n); allow four.
    assert abs(correlation - -0.6) < 4 * (1 - 0.36) / np.sqrt(2000)


def test_zero_sum_truth_centres_the_effect_and_moves_its_mean():
    truth = simulate_sgrna_cell_line(np.random.default_rng(1)).truth
    moved = zero_sum_truth(truth, "beta", absorbed=("alpha", "gamma", "mu_gamma"))
    mean = truth["beta"].mean()
    assert abs(moved["beta"].sum()) < 1e-12
    np.testing.assert_allclose(moved["alpha"], truth["alpha"] + mean)
    assert moved["mu_gamma"] == pytest.approx(truth["mu_gamma"] + mean)
    assert "mu_beta" not in moved
    assert moved["sigma_beta"] == truth["sigma_beta"]


def test_global_intercept_truth_moves_the_gene_mean(copy_number_data):
    moved = global_intercept_truth(copy_number_data.truth)
    assert moved["alpha_global"] == pytest.approx(copy_number_data.truth["gamma"].mean())
    assert abs(moved["gamma"].sum()) < 1e-12
    assert "mu_gamma" not in moved


@pytest.mark.parametrize(
    "simulate, rows, columns",
    [
        (simulate_gene_level_predictor, 10 * 20 * 3, {"gene_expression", "rna", "replicate"}),
        (simulate_gene_cell_line_rna, 5 * 20 * 3, {"cell_line", "rna", "replicate"}),
        (simulate_sgrna_cell_line, 15 * 20, {"sgrna", "cell_line"}),
    ],
)
def test_series_simulations_are_tidy_and_reproducible(simulate, rows, columns):
    first = simulate(np.random.default_rng(3))
    again = simulate(np.random.default_rng(3))
    pd.testing.assert_frame_equal(first.observations, again.observations)
    assert len(first.observations) == rows
    assert columns | {"gene", "logfc"} <= set(first.observations.columns)
    assert np.isfinite(first.observations["logfc"]).all()


def test_gene_level_predictor_is_constant_within_each_gene():
    observations = simulate_gene_level_predictor(np.random.default_rng(3)).observations
    assert observations.groupby("gene", observed=True)["gene_expression"].nunique().eq(1).all()


def test_m7_size_is_1100_rows():
    data = simulate_sgrna_cell_line(np.random.default_rng(3), sgrnas_per_gene=tuple(range(1, 11)))
    assert len(data.observations) == 1100
    assert data.observations["sgrna"].nunique() == 55


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"sgrnas_per_gene": ()}, ValueError, "sgrnas_per_gene"),
        ({"sgrnas_per_gene": "12"}, TypeError, "sgrnas_per_gene"),
        ({"sgrnas_per_gene": (1, 0)}, ValueError, "sgrnas_per_gene"),
        ({"copy_number_rates": (1.0, 2.0)}, ValueError, "copy_number_rates"),
        ({"copy_number_rates": (1.0, -1.0, None, 1.0, 1.0)}, ValueError, "copy_number_rates"),
        ({"rho": 1.0}, ValueError, "rho"),
        ({"sigma": -0.3}, ValueError, "sigma"),
        ({"num_cell_lines": 2.5}, TypeError, "num_cell_lines"),
    ],
)
def test_copy_number_simulation_refuses_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        simulate_sgrna_copy_number(np.random.default_rng(0), **kwargs)


@pytest.mark.parametrize(
    "simulate, kwargs, message",
    [
        (simulate_gene_level_predictor, {"num_replicates": 0}, "num_replicates"),
        (simulate_gene_level_predictor, {"sigma_gamma": 0.0}, "sigma_gamma"),
        (simulate_gene_cell_line_rna, {"mu_gamma": float("nan")}, "mu_gamma"),
        (simulate_sgrna_cell_line, {"sigma_alpha": -1.0}, "sigma_alpha"),
    ],
)
def test_series_simulations_refuse_bad_input(simulate, kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate(np.random.default_rng(0), **kwargs)


def test_simulations_refuse_global_random_state():
    with pytest.raises(TypeError, match="rng"):
        simulate_sgrna_cell_line(np.random)


def test_zero_sum_truth_refuses_unknown_names():
    truth = simulate_sgrna_cell_line(np.random.default_rng(1)).truth
    with pytest.raises(ValueError, match="effect"):
        zero_sum_truth(truth, "sigma", absorbed=())
    with pytest.raises(ValueError, match="absorbed"):
        zero_sum_truth(truth, "beta", absorbed=("epsilon",))
