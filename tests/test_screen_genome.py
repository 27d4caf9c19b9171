"""The genome-wide step's re-estimated gene hierarchy, on genes whose
likelihoods are normal, where the answer is known in closed form."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from scipy.optimize import approx_fprime

from crispr_models.screen.genome import (
    FINE_POINTS,
    STARTING_VALUES,
    GeneGrids,
    _finite_difference_derivatives,
    _hierarchy_log_posterior,
    _laplace,
    _newton_mode,
    _pack,
    _with_gene_prior,
    effects_on_grids,
    fit_gene_hierarchy,
)
from crispr_models.screen.model import DIPLOID, TOP_COPY_LEVEL, GeneLayout

TRUTH = {
    "intercept": -0.3,
    "sigma_gene": 0.5,
    "copy_number_effect": np.array([0.4, 0.2, 0.0, -0.1, -0.2, -0.3, -0.5, -0.8, -1.2]),
}
NUM_GENES = 20000


@pytest.fixture(scope="module")
def normal_genes():
    """Genes with a normal likelihood of known centre and sd, tabulated on
    grids as :func:`gene_likelihood_grids` would place them; level 2 has many
    genes, level 0 few, as in a screen."""
    rng = np.random.default_rng(11)
    levels = rng.choice(
        TOP_COPY_LEVEL + 1, NUM_GENES, p=[0.01, 0.02, 0.2, 0.35, 0.2, 0.12, 0.04, 0.03, 0.03]
    )
    level_mean = TRUTH["intercept"] + TRUTH["copy_number_effect"]
    truth = rng.normal(level_mean[levels], TRUTH["sigma_gene"])
    likelihood_sd = rng.uniform(0.1, 0.4, NUM_GENES)
    observed = rng.normal(truth, likelihood_sd)
    grid = observed[:, None] + 8 * likelihood_sd[:, None] * np.linspace(-1, 1, FINE_POINTS)
    log_likelihood = -0.5 * ((grid - observed[:, None]) / likelihood_sd[:, None]) ** 2
    layout = GeneLayout(
        np.arange(NUM_GENES), pd.Index([f"g{i}" for i in range(NUM_GENES)]), levels, levels
    )
    draw = {"intercept": 0.0, "sigma_gene": 1.0, "sigma_guide": 0.2, "excess_cv": 0.5}
    grids = GeneGrids(layout, [draw], [grid], [log_likelihood], 0.0)
    return grids, observed, likelihood_sd


def _exact_negative_log_posterior(theta, levels, observed, likelihood_sd):
    """The same posterior with each gene integrated in closed form: its
    observation is N(level mean, sqrt(sigma_gene^2 + sd^2))."""
    intercept, sigma = theta[0], np.exp(theta[1])
    level_means = np.insert(theta[2:], DIPLOID, intercept)
    scale = np.sqrt(sigma**2 + likelihood_sd**2)
    value = stats.norm.logpdf(observed, level_means[levels], scale).sum()
    value += stats.norm.logpdf(intercept) + stats.norm.logpdf(theta[2:], intercept).sum()
    value += stats.halfnorm.logpdf(sigma) + theta[1]
    return -value


@pytest.mark.parametrize("gene_df", [None, 4.0])
def test_the_hierarchy_gradient_is_the_log_posteriors(normal_genes, gene_df):
    """With a normal and with a Student-t prior on the genes (its degrees of
    freedom a parameter too)."""
    grids, _, _ = normal_genes
    levels, grid, found = grids.layout.gene_level, grids.points[0], grids.log_likelihood[0]
    heavy = gene_df is not None
    start = _pack({**TRUTH, "gene_df": gene_df})
    theta = start + np.random.default_rng(2).normal(0, 0.1, len(start))

    def value(t):
        return _hierarchy_log_posterior(t, levels, grid, found, heavy)[0]

    _, gradient = _hierarchy_log_posterior(theta, levels, grid, found, heavy)
    np.testing.assert_allclose(gradient, approx_fprime(theta, value), rtol=1e-4, atol=1e-3)


def test_the_student_t_hierarchy_is_scipys_density():
    """With one gene whose likelihood is a spike at x, the log posterior is
    the Student-t's log density at x (normalising constant included) plus
    the priors: what fits gene_df."""
    layout_levels = np.array([DIPLOID])
    grid = np.array([[0.7 - 1e-6, 0.7, 0.7 + 1e-6]])
    spike = np.array([[-1e9, 0.0, -1e9]])
    draw = {**TRUTH, "gene_df": 3.0}
    first, _ = _hierarchy_log_posterior(_pack(draw), layout_levels, grid, spike, True)
    second, _ = _hierarchy_log_posterior(
        _pack({**draw, "gene_df": 9.0}), layout_levels, grid, spike, True
    )
    expected = [
        stats.t.logpdf(0.7, nu, TRUTH["intercept"], TRUTH["sigma_gene"])
        + stats.gamma.logpdf(nu, 2.0, scale=10.0)
        + np.log(nu)
        for nu in (3.0, 9.0)
    ]
    assert second - first == pytest.approx(expected[1] - expected[0], rel=1e-9)


def _hessian(function, theta, step=1e-4):
    """Central second differences of ``function`` at ``theta``."""
    eye = np.eye(len(theta)) * step
    return np.array(
        [
            [
                (
                    function(theta + a + b)
                    - function(theta + a - b)
                    - function(theta - a + b)
                    + function(theta - a - b)
                )
                / (4 * step**2)
                for b in eye
            ]
            for a in eye
        ]
    )


def test_the_hierarchy_is_the_closed_form_posteriors_and_covers_the_truth(normal_genes):
    """The Laplace mode and sds from the grids against the closed-form
    posterior's mode and Hessian, and the truth within 4 of its sds."""
    grids, observed, likelihood_sd = normal_genes
    levels = grids.layout.gene_level
    arguments = (levels, observed, likelihood_sd)
    exact = optimize.minimize(_exact_negative_log_posterior, _pack(TRUTH), args=arguments)
    exact_sd = np.sqrt(
        np.diag(
            np.linalg.inv(_hessian(lambda t: _exact_negative_log_posterior(t, *arguments), exact.x))
        )
    )
    mode, covariance = _laplace(levels, grids.points[0], grids.log_likelihood[0], _pack(TRUTH))
    np.testing.assert_array_less(np.abs(mode - exact.x), 0.01 * exact_sd)
    np.testing.assert_allclose(np.sqrt(np.diag(covariance)), exact_sd, rtol=0.01)
    assert np.all(np.abs(exact.x - _pack(TRUTH)) < 4 * exact_sd)


def test_hierarchy_draws_are_reproducible_and_zero_at_two_copies(normal_genes):
    grids, _, _ = normal_genes
    first = fit_gene_hierarchy(grids, np.random.default_rng(3))[0]
    again = fit_gene_hierarchy(grids, np.random.default_rng(3))[0]
    np.testing.assert_array_equal(first["copy_number_effect"], again["copy_number_effect"])
    assert first["copy_number_effect"][DIPLOID] == 0.0
    assert first["sigma_guide"] == grids.draws[0]["sigma_guide"]
    # more draws per grid: the first is the same draw, the others differ
    several = fit_gene_hierarchy(grids, np.random.default_rng(3), draws_per_grid=3)
    assert len(several) == 3 * len(grids.draws)
    np.testing.assert_allclose(several[0]["copy_number_effect"], first["copy_number_effect"])
    assert several[1]["sigma_gene"] != several[0]["sigma_gene"]


def test_gene_effects_are_the_normal_posterior_given_the_hierarchy(normal_genes):
    """Given a hierarchy each gene's posterior is normal-normal: precision-
    weighted mean and sd in closed form, net of its level's effect; and one
    hierarchy per grid is required."""
    grids, observed, likelihood_sd = normal_genes
    levels = grids.layout.gene_level
    hierarchy = {**grids.draws[0], **TRUTH}
    table = effects_on_grids(grids, -1.0, [hierarchy])
    prior_mean = TRUTH["intercept"] + TRUTH["copy_number_effect"][levels]
    precision = 1 / likelihood_sd**2 + 1 / TRUTH["sigma_gene"] ** 2
    mean = (observed / likelihood_sd**2 + prior_mean / TRUTH["sigma_gene"] ** 2) / precision
    sd = 1 / np.sqrt(precision)
    effect = mean - TRUTH["copy_number_effect"][levels]
    np.testing.assert_allclose(table["mean"], effect, atol=1e-3 * sd.min())
    np.testing.assert_allclose(table["sd"], sd, rtol=1e-3)
    below = stats.norm.cdf(-1.0, effect, sd)
    np.testing.assert_allclose(table["prob_below"], below, atol=2e-3)
    # several hierarchies per grid are mixed: two equal ones change nothing
    np.testing.assert_allclose(effects_on_grids(grids, -1.0, [hierarchy, hierarchy]), table)
    with pytest.raises(ValueError, match="the same number for each of the 2 grids"):
        two_grids = replace(grids, draws=grids.draws * 2)
        effects_on_grids(two_grids, -1.0, [hierarchy, hierarchy, hierarchy])


def _normal_in_sds(log_values):
    """A log density in the logs of two sds that is normal in the sds
    (centres 0.15 and 0.55, sds 0.01 and 0.004, correlation 0.5), with the
    Jacobian: not normal in the logs, and convex there below about 0.07."""
    values = np.exp(log_values)
    z = (values - np.array([0.15, 0.55])) / np.array([0.01, 0.004])
    return -0.5 * (z[0] ** 2 - z[0] * z[1] + z[1] ** 2) / 0.75 + log_values.sum()


def test_finite_differences_give_a_quadratics_gradient_and_hessian_exactly():
    # on a quadratic, central differences are exact whatever the step (up to
    # rounding); a cubic term shows the error is second order in the step
    hessian = np.array([[-4.0, 1.5, 0.3], [1.5, -2.0, -0.7], [0.3, -0.7, -1.0]])
    point = np.array([0.2, -0.1, 0.4])

    def quadratic(x):
        return 0.5 * x @ hessian @ x + x.sum()

    gradient, found = _finite_difference_derivatives(
        quadratic, point, quadratic(point), np.array([0.1, 0.2, 0.05])
    )
    assert np.allclose(gradient, hessian @ point + 1.0)
    assert np.allclose(found, hessian)
    errors = []
    for step in (0.1, 0.05):

        def cubic(x):
            return quadratic(x) + x[0] ** 2 * x[1]

        _, found = _finite_difference_derivatives(cubic, point, cubic(point), np.full(3, step))
        exact = hessian + np.array(
            [[2 * point[1], 2 * point[0], 0], [2 * point[0], 0, 0], [0, 0, 0]]
        )
        errors.append(np.abs(found - exact).max())
    assert errors[1] < errors[0] / 3 or errors[0] < 1e-9


def test_the_newton_mode_is_found_from_a_convex_tail():
    """From 0.05, ten sds away, where the density is convex in the log: the
    mode is the optimiser's to 0.1 sd and the covariance the exact Hessian's."""
    start, step = np.log([0.05, 0.6]), np.array([0.1, 0.01])
    mode, covariance = _newton_mode(_normal_in_sds, start, step)
    exact = optimize.minimize(lambda u: -_normal_in_sds(u), np.log([0.15, 0.55]), tol=1e-12).x
    sds = np.sqrt(np.diag(covariance))
    assert np.all(np.abs(mode - exact) < 0.1 * sds)
    # the exact Hessian at the mode, by fine central differences
    eps = 1e-5
    hessian = np.array(
        [
            [
                (
                    _normal_in_sds(exact + eps * (e_i + e_j))
                    - _normal_in_sds(exact + eps * (e_i - e_j))
                    - _normal_in_sds(exact - eps * (e_i - e_j))
                    + _normal_in_sds(exact - eps * (e_i + e_j))
                )
                / (4 * eps**2)
                for e_j in np.eye(2)
            ]
            for e_i in np.eye(2)
        ]
    )
    # the covariance is the curvature's where the last step started, up to
    # 0.1 sd from the mode; 0.1 sd away this density's covariance differs
    # from the mode's by up to 2.2 % (by the same central differences)
    np.testing.assert_allclose(covariance, np.linalg.inv(-hessian), rtol=0.03)


def _narrow_normal_in_sds(log_values):
    """:func:`_normal_in_sds` with sds ten times smaller (0.001, 0.0004), as
    the whole genome pins the guide-level parameters down."""
    values = np.exp(log_values)
    z = (values - np.array([0.15, 0.55])) / np.array([0.001, 0.0004])
    return -0.5 * (z[0] ** 2 - z[0] * z[1] + z[1] ** 2) / 0.75 + log_values.sum()


def test_the_newton_mode_is_found_from_hundreds_of_sds_away():
    """A start drawn from the prior (the stubbed-sampler runs): 0.3 and 0.3,
    150 and 625 sds away. Steps of at most 20 sds take over 30 Newton steps;
    the limit that grows after each full step finds the mode within the
    budget, to 0.1 sd."""
    start, step = np.log([0.3, 0.3]), np.array([0.01, 0.01])
    mode, covariance = _newton_mode(_narrow_normal_in_sds, start, step)
    exact = optimize.minimize(
        lambda u: -_narrow_normal_in_sds(u), np.log([0.15, 0.55]), tol=1e-14
    ).x
    assert np.all(np.abs(mode - exact) < 0.1 * np.sqrt(np.diag(covariance)))


def test_a_student_t_fit_starts_from_normal_draws_and_a_normal_drops_the_tails():
    normal = {"intercept": 0.1, "sigma_gene": 0.3}
    heavy = _with_gene_prior(normal, "student_t")
    assert heavy == {**normal, "gene_df": STARTING_VALUES["gene_df"]}
    assert _with_gene_prior({**normal, "gene_df": 3.0}, "student_t")["gene_df"] == 3.0
    assert _with_gene_prior(heavy, "normal") == normal
