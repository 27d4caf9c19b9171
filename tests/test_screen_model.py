"""The read-count model of a real screen and what is read from its fit."""

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
import xarray as xr
from scipy import stats

from crispr_models.screen.analysis import (
    approximation_error_by_group,
    approximation_groups,
    chain_halves,
    choose_genes,
    compare_approximation,
    copy_number_effect_table,
    gene_effects,
    held_out_coverage,
    mark_not_estimable,
    moment_estimates,
    replicate_log_fold_changes,
)
from crispr_models.screen.data import Screen, gene_median_log_fold_change, load_crispy_screen
from crispr_models.screen.genome import (
    genome_wide_fit,
    integrate_gene_effects,
    shared_parameter_draws,
    starting_draws,
)
from crispr_models.screen.model import (
    MIN_AMPLICON_GENES,
    QUADRATURE_ERROR,
    TOP_COPY_LEVEL,
    GeneLayout,
    _count_constant_terms,
    compile_guide_marginal,
    copy_number_level,
    copy_number_levels,
    count_log_terms,
    expand_to_layout,
    integrated_log_likelihood,
    negative_binomial_log_likelihood,
    negative_binomial_parameters,
    read_count_model,
)
from crispr_models.screen.scoring import ESSENTIAL, average_precision, reference_labels, roc_auc


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


def test_the_model_computes_in_single_precision_when_asked(small_screen):
    """With floatX float32 (the benchmark's nuts-float32) no constant of the
    model casts its log density back to float64, and it is the double one's
    to float32's rounding: 6e-8 per operation, summed over the screen's
    counts (a worst case of 1e-4 relative for these 200 genes' ~3,000)."""
    doubled = read_count_model(small_screen)
    with pytensor.config.change_flags(floatX="float32"):
        single = read_count_model(small_screen)
        assert single.logp().dtype == "float32"
        point = {k: v.astype("float32") for k, v in single.initial_point().items()}
        value = single.compile_logp()(point)
    expected = doubled.compile_logp()(doubled.initial_point())
    assert value == pytest.approx(expected, rel=1e-4)


def test_copy_numbers_pool_above_the_top_level():
    assert copy_number_level([0, 1.4, 2, 7.6, 14]).tolist() == [0, 1, 2, 8, 8]
    assert copy_number_levels() == ["0", "1", "3", "4", "5", "6", "7", "8+"]


def test_the_model_names_its_variables_and_refuses_unknown_choices(small_screen):
    model = read_count_model(small_screen, "by_level")
    names = {v.name for v in model.free_RVs}
    assert names == {
        "intercept",
        "sigma_gene",
        "sigma_guide",
        "excess_per_read",
        "cn_level_mean",
        "gene_lfc",
        "gene_df",
    }
    series = read_count_model(small_screen, "by_level", noise="constant_cv", gene_prior="normal")
    series_names = {v.name for v in series.free_RVs}
    assert series_names == (names - {"excess_per_read", "gene_df"}) | {"excess_cv"}
    with pytest.raises(ValueError, match="gene_prior must be one of 'student_t', 'normal'"):
        read_count_model(small_screen, gene_prior="cauchy")
    with pytest.raises(ValueError, match="noise must be one of 'per_read', 'constant_cv'"):
        read_count_model(small_screen, noise="nb3")
    assert {"gene_effect", "cn_effect", "copy_number_effect"} <= {
        v.name for v in model.deterministics
    }
    assert model.coords["cn_level"] == tuple(copy_number_levels())
    assert "cn_slope" in {v.name for v in read_count_model(small_screen, "linear").free_RVs}
    with pytest.raises(ValueError, match="copy_number_effect must be one of 'none', 'linear'"):
        read_count_model(small_screen, "quadratic")
    with pytest.raises(TypeError, match="screen must be a crispr_models.screen.data.Screen"):
        read_count_model(small_screen.guides)


def test_a_linear_copy_number_effect_is_its_slope_times_copies_above_two(au565):
    model = read_count_model(au565.restrict_to_genes(au565.genes[:30]), "linear")
    slope = xr.DataArray([[-0.1, -0.2]], dims=("chain", "draw"))
    values = {v.name: np.zeros((1, 2, *v.shape.eval())) for v in model.free_RVs}
    values = {
        n: (("chain", "draw", *model.named_vars_to_dims.get(n, ())), v) for n, v in values.items()
    }
    values["cn_slope"] = slope
    effect = pm.compute_deterministics(
        xr.Dataset(values),
        var_names=["copy_number_effect"],
        model=model,
        merge_dataset=False,
        progressbar=False,
    )
    idata = xr.DataTree.from_dict({"posterior": effect})
    table = copy_number_effect_table(idata, "linear")
    assert table["copy_number"].tolist() == ["0", "1", "2", "3", "4", "5", "6", "7", "8+"]
    assert table["mean"].to_numpy() == pytest.approx(-0.15 * (np.arange(9) - 2))


def _effects(means, sds, below):
    index = pd.Index([f"g{i}" for i in range(len(means))], name="gene")
    return pd.DataFrame({"mean": means, "sd": sds, "prob_below": below}, index=index)


def test_auc_is_the_probability_an_essential_gene_scores_lower():
    reference = reference_labels(
        pd.Index([f"g{i}" for i in range(5)]),
        frozenset({"g0", "g1"}),
        frozenset({"g2", "g3", "g4"}),
    )
    scores = pd.Series([-2.0, 0.1, 0.0, 0.5, -0.1], index=reference.index)
    truth = (reference == ESSENTIAL).to_numpy()
    # pairs (essential, non-essential) with the essential lower: 3 of -2.0's, 1 of 0.1's
    assert roc_auc(truth, -scores.to_numpy())[0] == pytest.approx(4 / 6)
    perfect = -np.array([-2.0, -1.0, 0.0, 0.5, 0.1])
    assert roc_auc(truth, perfect)[0] == average_precision(truth, perfect)[0] == 1.0


def test_genes_at_zero_copies_have_no_effect():
    effects = _effects([-2.0, 0.1, -0.5], [0.2, 0.3, 0.1], [1.0, 0.0, 0.2])
    effects.attrs["draws"] = 10
    copy_number = pd.Series([0.0, 3.0, 0.4], index=effects.index)
    marked = mark_not_estimable(effects, copy_number)
    assert list(marked["estimable"]) == [False, True, True]
    assert marked.loc["g0", ["mean", "sd", "prob_below"]].isna().all()
    assert marked.loc["g1", "mean"] == 0.1 and marked.attrs == {"draws": 10}


def test_an_approximation_equal_to_the_reference_changes_nothing():
    effects = _effects([-2, 0.0], [0.2, 0.3], [1.0, 0.0])
    same = compare_approximation(effects, effects, 0.95)
    assert same == {
        "genes": 2,
        "rmse": 0.0,
        "rmse_in_sd": 0.0,
        "sd_ratio_median": 1.0,
        "max_probability_change": 0.0,
        "calls_changed": 0,
        "calls_reference": 1,
    }
    narrow = compare_approximation(effects, effects.assign(sd=effects["sd"] / 2), 0.95)
    assert narrow["sd_ratio_median"] == 0.5


def test_approximation_error_is_reported_by_group_and_adds_up(small_screen):
    groups = approximation_groups(small_screen)
    assert list(groups.columns) == ["guides per gene", "zero counts", "copy number"]
    per_gene = small_screen.guides.groupby("gene").size()
    assert (groups.loc[per_gene[per_gene == 5].index, "guides per gene"] == "5").all()
    assert (groups.loc[per_gene[per_gene <= 3].index, "guides per gene"] == "1-3").all()
    counts = small_screen.guides[list(small_screen.replicates)]
    zero_genes = set(small_screen.guides.loc[(counts == 0).any(axis=1).to_numpy(), "gene"])
    assert set(groups.index[groups["zero counts"] == "some"]) == zero_genes
    rng = np.random.default_rng(2)
    genes = groups.index
    reference = pd.DataFrame(
        {
            "mean": rng.normal(0, 1, genes.size),
            "sd": 0.2,
            "prob_below": rng.uniform(size=genes.size),
        },
        index=genes,
    )
    # one gene's call and mean moved: it shows in its own groups, nowhere else
    moved = reference.copy()
    first = genes[0]
    moved.loc[first, "mean"] += 0.2
    moved.loc[first, "prob_below"] = 1.0 - (reference.loc[first, "prob_below"] >= 0.95)
    table = approximation_error_by_group(
        reference, {"same": reference, "moved": moved}, groups, 0.95
    )
    assert (table.loc[table["against"] == "same", ["rmse", "calls_changed"]] == 0).all().all()
    moved_rows = table[(table["against"] == "moved") & (table["calls_changed"] > 0)]
    assert sorted(moved_rows["grouping"]) == sorted(["all genes", *groups.columns])
    assert list(moved_rows["group"][1:]) == list(groups.loc[first])
    for grouping in groups.columns:  # each grouping's groups hold every gene once
        rows = table[(table["grouping"] == grouping) & (table["against"] == "same")]
        assert rows["genes"].sum() == genes.size


def test_the_gene_sample_is_simple_random_and_reproducible(au565):
    first = choose_genes(au565.genes, 300, np.random.default_rng(1))
    again = choose_genes(au565.genes, 300, np.random.default_rng(1))
    assert first.equals(again) and first.size == 300
    assert not first.equals(choose_genes(au565.genes, 300, np.random.default_rng(2)))
    assert choose_genes(au565.genes, 0, np.random.default_rng(1)).equals(au565.genes)
    with pytest.raises(ValueError, match="num_genes must be a non-negative integer"):
        choose_genes(au565.genes, -1, np.random.default_rng(1))


@pytest.mark.slow  # brute-force integration of every guide: 25 s per noise model
@pytest.mark.parametrize("noise, value", [("constant_cv", 3.0**-0.5), ("per_read", 70.0)])
def test_the_guides_are_integrated_out_exactly(small_screen, noise, value):
    """Against brute-force integration, for guides whose counts sit near,
    and 3 and 8 prior sds from, their mean; and zero counts; under one
    dispersion (NB2) and a variance proportional to the mean (NB1)."""
    guides = small_screen.restrict_to_genes(small_screen.genes[:20])
    counts = guides.counts().astype(float)
    counts[0] = 0
    guides.guides[list(guides.replicates)] = counts.astype(int)
    offset = guides.expected_log_counts()
    observed = np.log2((counts + 0.5) / np.exp(offset)).mean(axis=1)
    sigma = 0.2
    for shift in (0.0, 3 * sigma, -8 * sigma):
        means = observed + shift
        fast, _, _ = compile_guide_marginal(guides, noise)(means, sigma, value)
        brute = [
            _brute_force_marginal(noise, value, counts[s], offset[s], means[s], sigma)
            for s in range(len(means))
        ]
        np.testing.assert_allclose(fast, brute, atol=QUADRATURE_ERROR[noise])


@pytest.mark.parametrize("noise, value", [("constant_cv", 0.55), ("per_read", 70.0)])
def test_the_count_likelihood_is_scipys_negative_binomial(small_screen, noise, value):
    """With the guides' sd near zero the integrated likelihood is the
    counts' density at their means, constant terms included: NB2 with one
    alpha, NB1 with shape mu / phi (variance mu (1 + phi))."""
    guides = small_screen.restrict_to_genes(small_screen.genes[:20])
    counts = guides.counts()
    means = np.random.default_rng(4).normal(-0.3, 0.5, len(counts))
    found = integrated_log_likelihood(guides, means, 1e-9, noise, value).eval()
    mu = np.exp(guides.expected_log_counts() + np.log(2.0) * means[:, None])
    n, p = negative_binomial_parameters(noise, mu, value)
    assert found == pytest.approx(stats.nbinom.logpmf(counts, n, p).sum(), rel=1e-9)
    variance = stats.nbinom.var(n, p)
    expected = mu * (1 + value) if noise == "per_read" else mu + value**2 * mu**2
    np.testing.assert_allclose(variance, expected, rtol=1e-9)


def _brute_force_marginal(noise, value, counts, log_offset, mean, sigma):
    """log of the integral of prod_r p(y_r | theta) N(theta | mean, sigma),
    the theta-free terms left out as the model does, on a fine grid (scipy's
    densities, less the model's constant terms)."""
    theta = np.linspace(-15, 10, 200_001)
    mu = np.exp(log_offset[:, None] + np.log(2) * theta[None, :])
    n, p = negative_binomial_parameters(noise, mu, value)
    kernel = stats.nbinom.logpmf(counts[:, None], n, p).sum(axis=0)
    kernel -= _count_constant_terms(noise, counts.astype(np.int64), value).eval()
    log_f = kernel + stats.norm.logpdf(theta, mean, sigma)
    peak = log_f.max()
    return peak + np.log(np.trapezoid(np.exp(log_f - peak), theta))


@pytest.mark.parametrize("noise, value", [("constant_cv", 3.0**-0.5), ("per_read", 70.0)])
def test_a_vanishing_guide_sd_leaves_the_negative_binomial_at_the_mean(small_screen, noise, value):
    """As sigma_guide -> 0 the integral is the counts' likelihood at the
    guide's mean. Computing theta - mean directly once made it 1,000 log
    units too high at sigma_guide = 1e-18, a false mode that trapped a chain."""
    guides = small_screen.restrict_to_genes(small_screen.genes[:20])
    counts = guides.counts()
    log_offset = guides.expected_log_counts()
    means = np.random.default_rng(8).normal(-0.5, 1.0, len(counts))
    log_mu = log_offset + np.log(2.0) * means[:, None]
    at_mean = pt.sum(count_log_terms(noise, counts, log_mu, value), axis=1).eval()
    marginal = compile_guide_marginal(guides, noise)
    for sigma in (1e-6, 1e-12, 1e-18):
        np.testing.assert_allclose(marginal(means, sigma, value)[0], at_mean, atol=1e-6)


def test_the_genome_integration_refuses_no_draws_and_holds_its_grid(small_screen):
    with pytest.raises(ValueError, match="draws is empty"):
        integrate_gene_effects(small_screen, [], -1.0)
    with pytest.raises(ValueError, match="draws is empty"):
        genome_wide_fit(small_screen, [], -1.0, np.random.default_rng(0))
    draw = {"intercept": -0.1, "sigma_gene": 0.4, "sigma_guide": 0.1, "excess_cv": 0.55}
    table = integrate_gene_effects(small_screen, [draw], -1.0)
    assert table.index.equals(small_screen.genes)
    assert table.attrs["max_edge_density"] < 1e-4
    assert (table["sd"] > 0).all() and table["sd"].max() < draw["sigma_gene"]
    # genes that may not differ all sit at the intercept, whatever their counts
    pooled = integrate_gene_effects(small_screen, [{**draw, "sigma_gene": 0.001}], -1.0)
    assert pooled["mean"].to_numpy() == pytest.approx(draw["intercept"], abs=0.005)


def test_the_genome_wide_fit_refits_every_shared_parameter_on_real_genes(small_screen):
    """On 200 AU565 genes, from two draws far from these genes' parameters:
    the gene hierarchy moves to where the genes put it, sigma_guide and
    excess_cv to their mode, and the draws of them scatter around it."""
    effect = np.array([0.5, 0.3, 0.0, -0.1, -0.2, -0.3, -0.4, -0.6, -1.0])
    draw = {
        "intercept": 0.4,
        "sigma_gene": 0.2,
        "sigma_guide": 0.02,
        "excess_cv": 0.8,
        "copy_number_effect": effect,
    }
    draws = [draw, {**draw, "sigma_guide": 0.03, "excess_cv": 0.85}]
    fit = genome_wide_fit(small_screen, draws, -1.0, np.random.default_rng(0))
    given_draws = integrate_gene_effects(small_screen, draws, -1.0)
    assert len(fit.parameters) == len(draws)
    # the draws' intercept of 0.4 is far above these genes' (the naive
    # medians of the diploid genes are near 0): the refit moves towards them
    assert all(p["intercept"] < draw["intercept"] - 0.2 for p in fit.parameters)
    assert fit.effects["mean"].mean() < given_draws["mean"].mean()
    # the replicates' spread of AU565 is near 0.55 (every fit of it), far
    # from the start; and every draw lies within 4 sds of the mode
    guide_sd = np.sqrt(np.diag(fit.guide_fit.covariance))
    assert abs(np.exp(fit.guide_fit.mode[1]) - 0.55) < 0.05
    for p in fit.parameters:
        logs = np.log([p["sigma_guide"], p["excess_cv"]])
        assert np.all(np.abs(logs - fit.guide_fit.mode) < 4 * guide_sd)
    assert fit.effects.attrs["max_edge_density"] < 1e-2


@pytest.fixture(scope="module")
def small_fit(small_screen):
    from crispr_models.core.fitting import sample_posterior
    from crispr_models.core.settings import SamplerSettings

    model = read_count_model(small_screen, "linear")
    settings = SamplerSettings(draws=500, tune=500, chains=2)
    return sample_posterior(model, np.random.default_rng(3), settings)


@pytest.mark.slow
def test_a_few_hundred_genes_fit_and_rank_genes_like_their_guides(small_screen, small_fit):
    """nutpie on 200 genes: no divergences, gene effects that follow the
    guides' naive medians, and replicated fold changes of the data's spread."""
    assert int(small_fit.sample_stats["diverging"].sum()) == 0
    effects = gene_effects(small_fit, -1.0)
    naive = gene_median_log_fold_change(small_screen).reindex(effects.index)
    assert stats.spearmanr(effects["mean"], naive).statistic > 0.8
    replicated = replicate_log_fold_changes(
        small_screen, small_fit.posterior, np.random.default_rng(4), num_draws=20
    )
    assert replicated.shape == (20, len(small_screen.guides))
    observed_sd = gene_median_log_fold_change(small_screen).std()
    assert 0.5 < np.median(replicated.std(axis=1)) / observed_sd < 3


@pytest.mark.slow
def test_the_genome_integration_agrees_with_nuts_on_the_same_genes(small_screen, small_fit):
    """Given NUTS's shared parameters, the grid's gene effects equal NUTS's
    own within NUTS's Monte Carlo error: a mean's MCSE is sd / sqrt(ESS), so
    the RMSE in sds is at most a few 1 / sqrt(ESS); an sd estimated from ESS
    draws is off by about 1 / sqrt(2 ESS), far less in the median of 200."""
    nuts = gene_effects(small_fit, -1.0)
    halves = chain_halves(small_fit, -1.0)
    assert np.allclose((halves[0]["mean"] + halves[1]["mean"]) / 2, nuts["mean"])
    with pytest.raises(ValueError, match="two halves need at least 2"):
        chain_halves(small_fit.isel(chain=[0]), -1.0)
    draws = shared_parameter_draws(small_fit.posterior, 20)
    grid = integrate_gene_effects(small_screen, draws, -1.0)
    ess = float(az.ess(small_fit, var_names=["gene_effect"])["gene_effect"].median())
    found = compare_approximation(nuts, grid, 0.95)
    assert found["rmse_in_sd"] < 3 / np.sqrt(ess)
    assert abs(found["sd_ratio_median"] - 1) < 3 / np.sqrt(2 * ess)
    assert found["calls_changed"] <= 1


@pytest.mark.slow  # ADVI's optimisation
def test_advi_returns_draws_of_every_gene_and_its_time(small_screen):
    from crispr_models.core.fitting import fit_advi

    model = read_count_model(small_screen, "none")
    idata = fit_advi(model, np.random.default_rng(5), iterations=300, draws=50)
    assert idata.posterior["gene_effect"].shape == (1, 50, small_screen.genes.size)
    assert idata.posterior.attrs["iterations"] == 300
    assert idata.posterior.attrs["sampling_time"] > 0
    with pytest.raises(ValueError, match="iterations must be a positive integer"):
        fit_advi(model, np.random.default_rng(5), iterations=0)


def _simulated_guides(rng, noise, value, genes=500, guides_per_gene=4, sigma_guide=0.2):
    """A screen of ``genes`` genes (effects N(-0.3, 0.8)), each guide's fold
    change N(its gene's, sigma_guide), plasmid counts spread over two orders
    of magnitude, three replicates' counts from the ``noise`` model, equal
    library sizes; and the true gene effects."""
    gene_effect = rng.normal(-0.3, 0.8, genes)
    gene = np.repeat(np.arange(genes), guides_per_gene)
    theta = rng.normal(gene_effect[gene], sigma_guide)
    plasmid = np.round(np.exp(rng.uniform(np.log(40), np.log(3000), gene.size))).astype(int)
    mu = plasmid[:, None] * 2.0 ** theta[:, None] * np.ones((1, 3))
    counts = rng.negative_binomial(*negative_binomial_parameters(noise, mu, value))
    names = [f"g{i}" for i in range(genes)]
    table = pd.DataFrame(counts, columns=["R1", "R2", "R3"]).assign(
        plasmid=plasmid, gene=[names[g] for g in gene], copy_number=2.0
    )
    sizes = pd.Series(1.0, index=["R1", "R2", "R3", "plasmid"])
    screen = Screen(table, ("R1", "R2", "R3"), sizes, {})
    return screen, pd.Series(gene_effect, index=names)


def test_held_out_replicates_are_covered_as_often_as_promised_under_the_true_noise():
    """Counts drawn from NB1 (phi = 70) with known gene effects: given the
    truth, 90 % intervals for each held-out replicate hold 90 % of the
    counts in every decile of abundance (within 3 binomial standard errors,
    plus at most 0.005 for the ends of a discrete interval at these counts);
    NB2 with one dispersion, matched to the middle of the counts, covers
    too few of the low counts and too many of the high ones."""
    screen, truth = _simulated_guides(np.random.default_rng(5), "per_read", 70.0)
    effects = pd.DataFrame({"mean": truth, "sd": 0.0})
    draw = {"sigma_guide": 0.2, "excess_per_read": 70.0}
    right = held_out_coverage(screen, effects, draw)
    se = np.sqrt(0.9 * 0.1 / right["counts"])
    assert np.all(right["coverage"] > 0.9 - 3 * se)
    assert np.all(right["coverage"] < 0.9 + 3 * se + 0.005)
    middle = float(np.median(right["abundance"]))
    wrong = held_out_coverage(
        screen, effects, {"sigma_guide": 0.2, "excess_cv": np.sqrt(70.0 / middle)}
    )
    assert wrong["coverage"].iloc[0] < 0.9 - 3 * se.iloc[0]
    assert wrong["coverage"].iloc[-1] > 0.9 + 3 * se.iloc[-1]
    with pytest.raises(ValueError, match="probability must lie strictly between 0 and 1"):
        held_out_coverage(screen, effects, draw, probability=1.0)


def test_moment_estimates_start_near_the_simulated_noise_and_guide_spread():
    """On NB1 counts (phi = 70, sigma_guide = 0.3, 500 genes of 4 guides),
    the moment estimates land within a fifth of the truth (the median over
    genes of a 3-df variance is biased low by a sixth at most): a start
    within reach, which is all :func:`starting_draws` asks of them."""
    screen, _ = _simulated_guides(np.random.default_rng(8), "per_read", 70.0, sigma_guide=0.3)
    found = moment_estimates(screen, "per_read")
    assert found["excess_per_read"] == pytest.approx(70.0, rel=0.2)
    assert found["sigma_guide"] == pytest.approx(0.3, rel=0.2)
    start = starting_draws("per_read", screen=screen)[0]
    assert start["excess_per_read"] == found["excess_per_read"]
    assert set(starting_draws("constant_cv", "normal")[0]) == {
        "intercept",
        "sigma_gene",
        "sigma_guide",
        "excess_cv",
        "copy_number_effect",
    }
    with pytest.raises(ValueError, match="noise must be one of"):
        starting_draws("poisson")


def test_focal_amplicons_get_levels_of_their_own(au565):
    """AU565's runs of segments at the top level that hold at least
    MIN_AMPLICON_GENES genes each become a level, their genes and guides
    moved there from the pooled top level; an effect of the wrong length is
    refused, naming the levels."""
    pooled = GeneLayout.of(au565)
    split = GeneLayout.of(au565, split_amplicons=True)
    extra = len(split.level_labels) - len(pooled.level_labels)
    assert extra >= 4 and any("chr17" in label for label in split.level_labels)
    genes_per_level = np.bincount(split.gene_level, minlength=len(split.level_labels))
    assert np.all(genes_per_level[-extra:] >= MIN_AMPLICON_GENES)
    moved = split.gene_level != pooled.gene_level
    assert np.all(pooled.gene_level[moved] == TOP_COPY_LEVEL)
    assert "ERBB2" in set(
        split.genes[
            split.gene_level
            == split.level_labels.index(
                next(label for label in split.level_labels if "chr17" in label)
            )
        ]
    )
    effect = expand_to_layout(np.linspace(0.3, -0.8, TOP_COPY_LEVEL + 1), split)
    assert np.all(effect[-extra:] == effect[TOP_COPY_LEVEL])
    assert GeneLayout.for_effect(au565, effect).level_labels == split.level_labels
    with pytest.raises(ValueError, match="the copy-number effect has 11 levels"):
        GeneLayout.for_effect(au565, np.zeros(11))


def test_the_genome_wide_fit_starts_without_nuts_and_finds_the_screens_noise(small_screen):
    """From the middle of the priors (no sample fit), on 200 AU565 genes:
    as many draws as asked, each with the Student-t's degrees of freedom and
    NB1's phi, and phi's mode within 4 of its posterior sds of the whole
    genome's (79.5 +- 0.4 in the chapter's fit)."""
    fit = genome_wide_fit(
        small_screen, starting_draws("per_read"), -1.0, np.random.default_rng(0), num_draws=3
    )
    assert len(fit.parameters) == 3
    assert all({"gene_df", "excess_per_read"} <= set(p) for p in fit.parameters)
    assert fit.guide_fit.names == ("sigma_guide", "excess_per_read")
    phi_sd = np.exp(fit.guide_fit.mode[1]) * np.sqrt(fit.guide_fit.covariance[1, 1])
    assert abs(np.exp(fit.guide_fit.mode[1]) - 79.5) < 4 * phi_sd
