"""The read-count model of a real screen and what is read from its fit."""

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr
from scipy import stats

from crispr_models.screen_analysis import (
    ESSENTIAL,
    NON_ESSENTIAL,
    choose_genes,
    compare_approximation,
    copy_number_effect_table,
    essentiality_auc,
    essentiality_calls,
    gene_effects,
    reference_labels,
    replicate_log_fold_changes,
)
from crispr_models.screen_data import gene_median_log_fold_change, load_crispy_screen
from crispr_models.screen_model import (
    copy_number_level,
    copy_number_levels,
    negative_binomial_log_likelihood,
    read_count_model,
)


@pytest.fixture(scope="module")
def au565():
    return load_crispy_screen()


@pytest.fixture(scope="module")
def small_screen(au565):
    genes = np.random.default_rng(7).choice(au565.genes, 200, replace=False)
    return au565.restrict_to_genes(genes)


def test_the_fast_likelihood_is_pymcs_negative_binomial_with_its_gradient():
    rng = np.random.default_rng(0)
    counts = rng.negative_binomial(4, 0.01, size=(60, 3))
    log_mu, alpha = pt.dvector("log_mu"), pt.dscalar("alpha")
    log_mu_matrix = log_mu.reshape((60, 3))
    fast = negative_binomial_log_likelihood(counts, log_mu_matrix, alpha)
    reference = pm.logp(pm.NegativeBinomial.dist(mu=pt.exp(log_mu_matrix), alpha=alpha), counts)
    reference = reference.sum()
    inputs = [log_mu, alpha]
    both = pytensor.function(
        inputs, [fast, reference, *pt.grad(fast, inputs), *pt.grad(reference, inputs)]
    )
    value, expected, d_mu, d_alpha, d_mu_ref, d_alpha_ref = both(rng.normal(5, 1, 180), 6.5)
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(d_mu, d_mu_ref, rtol=1e-9)
    assert d_alpha == pytest.approx(d_alpha_ref, rel=1e-9)


def test_copy_numbers_pool_above_the_top_level():
    assert copy_number_level([0, 1.4, 2, 7.6, 14]).tolist() == [0, 1, 2, 8, 8]
    assert copy_number_levels() == ["0", "1", "3", "4", "5", "6", "7", "8+"]


def test_the_model_names_its_variables_and_refuses_unknown_choices(small_screen):
    model = read_count_model(small_screen, "by_level", "non_centred")
    names = {v.name for v in model.free_RVs}
    assert {"intercept", "sigma_gene", "sigma_guide", "excess_cv", "cn_effect"} <= names
    assert model.coords["cn_level"] == tuple(copy_number_levels())
    assert "cn_slope" in {v.name for v in read_count_model(small_screen, "linear").free_RVs}
    with pytest.raises(ValueError, match="copy_number_effect must be one of 'none', 'linear'"):
        read_count_model(small_screen, "quadratic")
    with pytest.raises(TypeError, match="screen must be a screen_data.Screen"):
        read_count_model(small_screen.guides)


def test_a_linear_copy_number_effect_is_its_slope_times_copies_above_two():
    slope = np.array([[-0.1, -0.2]])
    idata = xr.DataTree.from_dict(
        {"posterior": xr.Dataset({"cn_slope": (("chain", "draw"), slope)})}
    )
    table = copy_number_effect_table(idata, "linear")
    assert table["copy_number"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7", "8+"]
    assert table["mean"].to_numpy() == pytest.approx(-0.15 * (np.arange(9) - 2))


def _effects(means, sds, below):
    index = pd.Index([f"g{i}" for i in range(len(means))], name="gene")
    return pd.DataFrame({"mean": means, "sd": sds, "prob_below": below}, index=index)


def test_auc_is_the_probability_an_essential_gene_scores_lower():
    reference = pd.Series(
        [ESSENTIAL, ESSENTIAL, NON_ESSENTIAL, NON_ESSENTIAL, NON_ESSENTIAL],
        index=[f"g{i}" for i in range(5)],
    )
    scores = pd.Series([-2.0, 0.1, 0.0, 0.5, -0.1], index=reference.index)
    # pairs (essential, non-essential) with the essential lower: 3 of -2.0's, 1 of 0.1's
    assert essentiality_auc(scores, reference)["roc_auc"] == pytest.approx(4 / 6)
    perfect = pd.Series([-2.0, -1.0, 0.0, 0.5, 0.1], index=reference.index)
    assert essentiality_auc(perfect, reference) == {
        "roc_auc": 1.0,
        "pr_auc": 1.0,
        "essential": 2,
        "non_essential": 3,
    }


def test_calls_count_false_positives_on_the_non_essential_genes():
    effects = _effects([-2, -1.5, -1.2, 0, 0.1], [0.1] * 5, [1.0, 0.99, 0.97, 0.2, 0.0])
    reference = reference_labels(effects.index, frozenset({"g0", "g1"}), frozenset({"g2", "g3"}))
    calls = essentiality_calls(effects, reference, 0.98)
    assert calls == {
        "called": 2,
        "sensitivity": 1.0,
        "false_positive_rate": 0.0,
        "false_positives": 0,
    }
    assert essentiality_calls(effects, reference, 0.95)["false_positive_rate"] == 0.5


def test_an_approximation_equal_to_the_reference_changes_nothing():
    effects = _effects([-2, 0.0], [0.2, 0.3], [1.0, 0.0])
    same = compare_approximation(effects, effects, 0.95)
    assert same == {
        "genes": 2,
        "rmse": 0.0,
        "rmse_in_sd": 0.0,
        "sd_ratio_median": 1.0,
        "calls_changed": 0,
        "calls_reference": 1,
    }
    narrow = compare_approximation(effects, effects.assign(sd=effects["sd"] / 2), 0.95)
    assert narrow["sd_ratio_median"] == 0.5


def test_the_gene_sample_is_reproducible_and_half_reference(au565):
    reference = reference_labels(au565.genes, frozenset(au565.genes[:400]), frozenset())
    first = choose_genes(au565.genes, reference, 300, np.random.default_rng(1))
    again = choose_genes(au565.genes, reference, 300, np.random.default_rng(1))
    assert first.equals(again) and first.size == 300
    assert reference.reindex(first).notna().sum() == 150
    assert choose_genes(au565.genes, reference, 0, np.random.default_rng(1)).equals(au565.genes)


@pytest.mark.slow
def test_a_few_hundred_genes_fit_and_rank_genes_like_their_guides(small_screen):
    """nutpie on 200 genes: no divergences, gene effects that follow the
    guides' naive medians, and replicated fold changes of the data's spread."""
    from crispr_models.fitting import sample_posterior
    from crispr_models.settings import SamplerSettings

    model = read_count_model(small_screen, "linear", "non_centred")
    settings = SamplerSettings(draws=300, tune=300, chains=2)
    idata = sample_posterior(model, np.random.default_rng(3), settings)
    assert int(idata.sample_stats["diverging"].sum()) == 0
    effects = gene_effects(idata, -1.0)
    naive = gene_median_log_fold_change(small_screen).reindex(effects.index)
    assert stats.spearmanr(effects["mean"], naive).statistic > 0.8
    replicated = replicate_log_fold_changes(
        small_screen, idata.posterior, np.random.default_rng(4), num_draws=20
    )
    assert replicated.shape == (20, len(small_screen.guides))
    observed_sd = gene_median_log_fold_change(small_screen).std()
    assert 0.5 < np.median(replicated.std(axis=1)) / observed_sd < 3


def test_advi_returns_draws_of_every_gene_and_its_time(small_screen):
    from crispr_models.fitting import fit_advi

    model = read_count_model(small_screen, "none", "non_centred")
    idata = fit_advi(model, np.random.default_rng(5), iterations=300, draws=50)
    assert idata.posterior["gene_effect"].shape == (1, 50, small_screen.genes.size)
    assert idata.posterior.attrs["iterations"] == 300
    assert idata.posterior.attrs["sampling_time"] > 0
    with pytest.raises(ValueError, match="iterations must be a positive integer"):
        fit_advi(model, np.random.default_rng(5), iterations=0)
