r"""A read-count model of a whole screen: negative binomial with an offset.

Each guide :math:`s` of gene :math:`g[s]` at copy number :math:`c_s` is
counted :math:`y_{sr}` times in replicate :math:`r`:

.. math::
    y_{sr} &\sim \text{NegBinom}(\mu_{sr}, \alpha), \quad
    \log \mu_{sr} = \log\left(N_r \frac{p_s}{N_p}\right) + \ln 2\,\theta_s \\
    \theta_s &\sim N(\beta_{g[s]} + f(c_s), \sigma_\text{guide}), \quad
    \beta_g \sim N(a, \sigma_\text{gene})

with :math:`N_r` the replicate's reads, :math:`p_s / N_p` the guide's share of
the plasmid library (the offset: the count expected if nothing changed), and
every effect in **log2 fold change**, the unit screen biologists read:
:math:`\theta_s` is the guide's fold change, :math:`\beta_g` the gene's at
two copies (``gene_effect``), :math:`a` the mean gene's (``intercept``), and
:math:`f` the copy-number effect shared by all guides, zero at two copies
(diploid-centred), a function of the copy-number level (copy numbers
rounded, :data:`TOP_COPY_LEVEL` and above pooled):

- ``"none"``: :math:`f = 0`, the naive analysis as a model;
- ``"linear"``: :math:`f(c) = \gamma (c - 2)` (``cn_slope``);
- ``"by_level"``: one free effect per level but two.

The extra-Poisson variation is :math:`1/\sqrt{\alpha}` (``excess_cv``), the
counts' coefficient of variation at large means, HalfNormal(0.5);
:math:`a \sim N(0, 1)`, :math:`\sigma_\text{gene} \sim` HalfNormal(1),
:math:`\sigma_\text{guide} \sim` HalfNormal(0.5), :math:`\gamma \sim N(0, 0.5)`,
each level's effect N(0, 1).

How it is computed, which the posterior does not depend on:

- **The guides are integrated out.** Each guide's fold change meets only
  its own three counts, which agree poorly, so tens of thousands of weakly
  identified :math:`\theta_s` made NUTS mix slowly. Each guide's likelihood
  :math:`\int \prod_r \text{NB}(y_{sr} \mid \theta)\, N(\theta \mid m_s,
  \sigma_\text{guide})\, d\theta` is one-dimensional and is computed by
  Gauss-Hermite quadrature centred on the integrand's mode (Newton steps from
  a precision-weighted guess; :func:`guide_log_marginal`).
- **Genes are centred at their own copy number**: the sampled
  ``gene_lfc`` is the gene's fold change at its copy-number level,
  :math:`\eta_g = \beta_g + f(c_g) \sim N(a + f(c_g), \sigma_\text{gene})`,
  which the counts fix directly; ``gene_effect`` :math:`= \eta_g - f(c_g)` is
  a deterministic. For ``"by_level"`` the sampled quantities are the level
  means :math:`a + f(c)` (``cn_level_mean``). Both are linear changes of
  variables with unit Jacobian; sampling :math:`\beta_g` and :math:`f`
  directly left a ridge along which all non-diploid genes move against
  :math:`f` (intercept ESS 25 in 1,000 draws).
- The negative binomial's log-gamma terms in :math:`\alpha` are summed over
  the distinct count values (:func:`negative_binomial_log_likelihood`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
from scipy.special import gammaln

from crispr_models.input_checks import check_choice
from crispr_models.screen_data import Screen

#: The copy-number effects :func:`read_count_model` knows.
COPY_NUMBER_EFFECTS = ("none", "linear", "by_level")
#: Copy numbers from here up share one level: few guides sit above it
#: (about 1,400 of AU565's 83,000).
TOP_COPY_LEVEL = 8
#: Copy number where the copy-number effect is zero.
DIPLOID = 2
#: Gauss-Hermite nodes per guide, and Newton steps to the integrand's mode:
#: against brute-force integration of 200 AU565 guides, 5 nodes after 2
#: steps are exact to a median 1e-7 in the log likelihood.
QUADRATURE_NODES = 5
NEWTON_STEPS = 2
_LN2 = float(np.log(2.0))
#: The priors' scales: normal for the intercept, the slope and the level
#: means (about the intercept), half-normal for the sds and ``excess_cv``.
#: :mod:`crispr_models.screen_genome` refits some of them outside PyMC.
PRIOR_SCALES = {
    "intercept": 1.0,
    "cn_slope": 0.5,
    "cn_level_mean": 1.0,
    "sigma_gene": 1.0,
    "sigma_guide": 0.5,
    "excess_cv": 0.5,
}


def copy_number_level(copy_number: object) -> np.ndarray:
    """Copy numbers as levels: rounded, capped at :data:`TOP_COPY_LEVEL`."""
    return np.minimum(np.rint(np.asarray(copy_number, dtype=float)), TOP_COPY_LEVEL).astype(int)


def copy_number_label(level: int) -> str:
    """A level's label: its copy number, the top level with a "+"."""
    return f"{level}+" if level >= TOP_COPY_LEVEL else str(level)


def copy_number_labels() -> list[str]:
    """Every level's label, 0 to the top."""
    return [copy_number_label(c) for c in range(TOP_COPY_LEVEL + 1)]


def copy_number_levels() -> list[str]:
    """The labels of the ``"by_level"`` effects, two copies excluded."""
    return [label for label in copy_number_labels() if label != str(DIPLOID)]


@dataclass(frozen=True)
class GeneLayout:
    """Which gene each guide belongs to, and the copy-number levels of each
    guide and of each gene (the level of its guides' median copy number)."""

    gene_index: np.ndarray
    genes: pd.Index
    guide_level: np.ndarray
    gene_level: np.ndarray

    @classmethod
    def of(cls, screen: Screen) -> GeneLayout:
        gene_index, genes = pd.factorize(screen.guides["gene"])
        copy_number = screen.guides["copy_number"].to_numpy(float)
        gene_copy_number = pd.Series(copy_number).groupby(gene_index).median().to_numpy()
        return cls(
            gene_index, genes, copy_number_level(copy_number), copy_number_level(gene_copy_number)
        )

    def gene_shift(self, effect: object) -> object:
        """:math:`f(c_g)` per gene (numpy or PyTensor; 0 without an effect)."""
        return 0.0 if effect is None else effect[..., self.gene_level]

    def guide_means(self, gene_lfc: object, effect: object) -> object:
        """Each guide's mean fold change :math:`\\eta_g + f(c_s) - f(c_g)`
        from the genes' fold changes at their own level (numpy or PyTensor)."""
        means = gene_lfc[..., self.gene_index]
        if effect is None:
            return means
        shift = effect[..., self.guide_level] - effect[..., self.gene_level[self.gene_index]]
        return means + shift


def _copy_number_effect(kind: str, intercept: object) -> object:
    """:math:`f` at every level (zero at two copies), recorded as
    ``copy_number_effect``; ``None`` for ``"none"``."""
    levels = np.arange(TOP_COPY_LEVEL + 1)
    if kind == "none":
        return None
    if kind == "linear":
        slope = pm.Normal("cn_slope", mu=0.0, sigma=PRIOR_SCALES["cn_slope"])
        effect = slope * (levels - DIPLOID)
    else:
        # sampled as level means a + f(c): the counts fix those, not f alone
        level_mean = pm.Normal(
            "cn_level_mean", mu=intercept, sigma=PRIOR_SCALES["cn_level_mean"], dims="cn_level"
        )
        free = pm.Deterministic("cn_effect", level_mean - intercept, dims="cn_level")
        effect = pt.concatenate([free[:DIPLOID], pt.zeros(1), free[DIPLOID:]])
    return pm.Deterministic("copy_number_effect", effect, dims="copy_number")


def read_count_model(screen: Screen, copy_number_effect: str = "by_level") -> pm.Model:
    """The model above on ``screen``; see the module docstring."""
    check_choice("copy_number_effect", copy_number_effect, COPY_NUMBER_EFFECTS)
    if not isinstance(screen, Screen):
        raise TypeError(f"screen must be a screen_data.Screen, got {type(screen).__name__}")
    layout = GeneLayout.of(screen)
    coords = {"gene": list(layout.genes)}
    if copy_number_effect != "none":
        coords["copy_number"] = copy_number_labels()
    if copy_number_effect == "by_level":
        coords["cn_level"] = copy_number_levels()
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("intercept", mu=0.0, sigma=PRIOR_SCALES["intercept"])
        effect = _copy_number_effect(copy_number_effect, intercept)
        gene_shift = layout.gene_shift(effect)
        sigma_gene = pm.HalfNormal("sigma_gene", sigma=PRIOR_SCALES["sigma_gene"])
        gene_lfc = pm.Normal("gene_lfc", mu=intercept + gene_shift, sigma=sigma_gene, dims="gene")
        pm.Deterministic("gene_effect", gene_lfc - gene_shift, dims="gene")
        sigma_guide = pm.HalfNormal("sigma_guide", sigma=PRIOR_SCALES["sigma_guide"])
        excess_cv = pm.HalfNormal("excess_cv", sigma=PRIOR_SCALES["excess_cv"])
        pm.Potential(
            "counts_log_likelihood",
            integrated_log_likelihood(
                screen, layout.guide_means(gene_lfc, effect), sigma_guide, 1.0 / excess_cv**2
            ),
        )
    return model


def negative_binomial_log_likelihood(counts: np.ndarray, log_mu: object, alpha: object) -> object:
    r"""The summed log density of ``counts`` under NegBinom(:math:`e^{\log\mu}`, alpha),
    the same number as PyMC's ``NegativeBinomial`` gives, computed faster.

    Per count :math:`y` the density is :math:`\log\Gamma(y + \alpha) -
    \log\Gamma(\alpha) - \log y! + \alpha \log\alpha + y \log\mu -
    (\alpha + y)\log(\alpha + \mu)`. Its costly part, the log-gamma
    functions of :math:`\alpha`, depends on the counts only through how
    often each value occurs: summed over a screen's 250,000 counts it is a
    sum over their few thousand distinct values, exactly
    (:func:`_count_constant_terms`). What remains per count is one
    ``logaddexp`` (:func:`_mean_terms`).
    """
    counts = np.asarray(counts, dtype=np.int64)
    return _count_constant_terms(counts, alpha) + pt.sum(_mean_terms(counts, log_mu, alpha))


def _count_constant_terms(counts: np.ndarray, alpha: object) -> object:
    """The terms of the summed negative-binomial log density free of the means."""
    values, multiplicity = np.unique(counts, return_counts=True)
    constant = -float(np.sum(multiplicity * gammaln(values + 1.0)))
    values, multiplicity = _as_float_x(values, multiplicity)
    gamma_terms = pt.sum(multiplicity * (pt.gammaln(values + alpha) - pt.gammaln(alpha)))
    return constant + gamma_terms + counts.size * alpha * pt.log(alpha)


def _mean_terms(counts: object, log_mu: object, alpha: object) -> object:
    """Per count, the terms of the negative-binomial log density with the mean."""
    return counts * log_mu - (alpha + counts) * pt.logaddexp(pt.log(alpha), log_mu)


def integrated_log_likelihood(
    screen: Screen, guide_mean: object, sigma_guide: object, alpha: object
) -> object:
    """The counts' log likelihood with each guide's fold change integrated
    out (:func:`guide_log_marginal`)."""
    counts = screen.counts().astype(np.int64)
    marginal, _, _ = guide_log_marginal(
        counts, screen.expected_log_counts(), guide_mean, sigma_guide, alpha
    )
    return _count_constant_terms(counts, alpha) + pt.sum(marginal)


def guide_log_marginal(
    counts: np.ndarray,
    log_offset: np.ndarray,
    guide_mean: object,
    sigma_guide: object,
    alpha: object,
) -> tuple[object, object, object]:
    r"""Per guide, :math:`\log \int \prod_r e^{k(y_{sr}, \theta)}\,
    N(\theta \mid m_s, \sigma_\text{guide})\, d\theta` with :math:`k` the
    mean terms of the negative binomial (:func:`_mean_terms`), and the
    integrand's mode and Laplace scale.

    The mode is found by :data:`NEWTON_STEPS` Newton steps (the integrand is
    log-concave) from the precision-weighted mean of :math:`m_s` and the
    guide's observed fold change; then :data:`QUADRATURE_NODES`-point
    Gauss-Hermite quadrature on the normal of that mode and scale, weighted
    by integrand / normal, so that it stays exact when a guide's counts sit
    far from its gene.
    """
    counts, log_offset = _as_float_x(counts, log_offset)
    replicates = counts.shape[1]
    observed = np.mean(np.log2((counts + 0.5) / np.exp(log_offset)), axis=1)
    observed_var = (np.mean(1.0 / (counts + 0.5), axis=1) + 1.0 / alpha) / (replicates * _LN2**2)
    prior_precision = 1.0 / sigma_guide**2
    # Everything is computed as the offset from the guide's mean, never as
    # theta - mean: with a small sigma_guide the prior precision is huge and
    # the rounding error of that difference, squared and multiplied by it,
    # made the log density noisy (a chain drifted to sigma_guide = 1e-18 and
    # its step size fell to 1e-5).
    offset = (observed - guide_mean) / observed_var / (prior_precision + 1.0 / observed_var)
    for _ in range(NEWTON_STEPS):
        slope, curvature = _log_integrand_derivatives(
            counts, log_offset, guide_mean, offset, prior_precision, alpha
        )
        offset = offset + slope / curvature
    _, curvature = _log_integrand_derivatives(
        counts, log_offset, guide_mean, offset, prior_precision, alpha
    )
    scale = 1.0 / pt.sqrt(curvature)
    nodes, weights = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
    nodes, log_weights = _as_float_x(nodes, np.log(weights / np.sqrt(np.pi)))
    # a Python float, which PyTensor casts to floatX (a numpy one stays float64)
    node_offset = offset[:, None] + 2.0**0.5 * scale[:, None] * nodes[None, :]
    theta = guide_mean[:, None] + node_offset
    log_mu = log_offset[:, :, None] + _LN2 * theta[:, None, :]
    data_terms = pt.sum(_mean_terms(counts[:, :, None], log_mu, alpha), axis=1)
    log_prior = -0.5 * node_offset**2 * prior_precision - pt.log(sigma_guide)
    # the normal of the mode and scale at theta is exp(-node^2) / scale, up to sqrt(2 pi)
    log_proposal = -(nodes**2)[None, :] - pt.log(scale)[:, None]
    terms = data_terms + log_prior - log_proposal + log_weights
    return pt.logsumexp(terms, axis=1), guide_mean + offset, scale


def _as_float_x(*arrays: np.ndarray) -> list[np.ndarray]:
    """Numpy constants in PyTensor's float type, so that a float32 model
    (``floatX="float32"``) is not cast back to float64 by its data."""
    return [np.asarray(a, dtype=pytensor.config.floatX) for a in arrays]


def _log_integrand_derivatives(counts, log_offset, mean, offset, prior_precision, alpha):
    """First derivative and minus the second of the log integrand in theta,
    at theta = mean + offset."""
    log_mu = log_offset + _LN2 * (mean + offset)[:, None]
    share = pt.sigmoid(log_mu - pt.log(alpha))  # mu / (alpha + mu)
    slope = _LN2 * pt.sum(counts - (alpha + counts) * share, axis=1)
    curvature = _LN2**2 * pt.sum((alpha + counts) * share * (1.0 - share), axis=1)
    return slope - offset * prior_precision, curvature + prior_precision


def compile_guide_marginal(screen: Screen) -> object:
    """A numpy function of (guide means, sigma_guide, alpha) giving
    :func:`guide_log_marginal` for ``screen``'s guides: the same graph the
    model samples, compiled for the genome-wide integration and the
    predictive draws."""
    mean = pt.dvector("guide_mean")
    sigma = pt.dscalar("sigma_guide")
    alpha = pt.dscalar("alpha")
    outputs = guide_log_marginal(screen.counts(), screen.expected_log_counts(), mean, sigma, alpha)
    return pytensor.function([mean, sigma, alpha], list(outputs))


def compile_count_terms(screen: Screen) -> object:
    """A numpy function of alpha: the counts' log-likelihood terms free of
    the means (:func:`_count_constant_terms`), which
    :func:`guide_log_marginal` leaves out and a fit of alpha needs."""
    alpha = pt.dscalar("alpha")
    counts = screen.counts().astype(np.int64)
    return pytensor.function([alpha], _count_constant_terms(counts, alpha))


def compile_log_integrand(screen: Screen) -> object:
    """A numpy function of (theta, guides x draws; guide means; sigma_guide;
    alpha): each guide's log integrand at each theta, up to constants."""
    theta = pt.dmatrix("theta")
    mean = pt.dvector("guide_mean")
    sigma = pt.dscalar("sigma_guide")
    alpha = pt.dscalar("alpha")
    counts = screen.counts().astype(float)[:, :, None]
    log_mu = screen.expected_log_counts()[:, :, None] + _LN2 * theta[:, None, :]
    data_terms = pt.sum(_mean_terms(counts, log_mu, alpha), axis=1)
    log_prior = -0.5 * ((theta - mean[:, None]) / sigma) ** 2
    return pytensor.function([theta, mean, sigma, alpha], data_terms + log_prior)
