r"""A read-count model of a whole screen: negative binomial with an offset.

Each guide :math:`s` of gene :math:`g[s]` at copy number :math:`c_s` is
counted :math:`y_{sr}` times in replicate :math:`r`:

.. math::
    y_{sr} &\sim \text{NegBinom}(\mu_{sr}, \alpha), \quad
    \log \mu_{sr} = \log\left(N_r \frac{p_s}{N_p}\right) + \ln 2\,\theta_s \\
    \theta_s &\sim N(\beta_{g[s]} + f(c_s), \sigma_\text{guide}), \quad
    \beta_g \sim t_\nu(a, \sigma_\text{gene})

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
- ``"by_level"``: one free effect per level but two;
- ``"by_amplicon"``: the same, with each focal amplicon (a run of segments
  at the top level holding :data:`MIN_AMPLICON_GENES` or more genes) a
  level of its own: an amplified region's guides are cut at every copy,
  and how much that slows the cells differs between amplicons (AU565's
  ERBB2, MYC, chr7 and chr20 amplicons do not share one effect).

The counts' variance beyond Poisson's is set by ``noise``:

- ``"per_read"`` (the default): NB1, :math:`\text{Var}(y) = \mu (1 + \phi)`,
  a negative binomial of shape :math:`\mu/\phi`, with :math:`\phi`
  (``excess_per_read``, HalfNormal(100)) the excess variance per read: the
  variance proportional to the mean that a screen's replicates show;
- ``"constant_cv"``: NB2, one :math:`\alpha` for every count, the
  extra-Poisson coefficient of variation :math:`1/\sqrt{\alpha}`
  (``excess_cv``, HalfNormal(0.5)).

The genes' prior (``gene_prior``) is a Student-t with :math:`\nu`
(``gene_df``) degrees of freedom, Gamma(2, 0.1): most genes do nothing and
a few (the essential ones) lie far from them, which a normal cannot hold
without either pulling the essential genes in or spreading the rest out
(``"normal"`` keeps the series' normal). The other priors:
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
- With one dispersion, the negative binomial's log-gamma terms in
  :math:`\alpha` are summed over the distinct count values
  (:func:`negative_binomial_log_likelihood`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
from scipy.special import gammaln

from crispr_models.core.input_checks import check_choice
from crispr_models.screen.data import Screen, amplicons

#: The copy-number effects :func:`read_count_model` knows.
COPY_NUMBER_EFFECTS = ("none", "linear", "by_level", "by_amplicon")
#: The noise models :func:`read_count_model` knows, each with its parameter.
NOISE_PARAMETERS = {"per_read": "excess_per_read", "constant_cv": "excess_cv"}
#: Copy numbers from here up share one level: few guides sit above it
#: (about 1,400 of AU565's 83,000).
TOP_COPY_LEVEL = 8
#: Copy number where the copy-number effect is zero.
DIPLOID = 2
#: Gauss-Hermite nodes per guide, and Newton steps to the integrand's mode:
#: against brute-force integration of 200 AU565 guides, 5 nodes after 2
#: steps were exact to a median 1e-7 in the log likelihood under NB2; NB1's
#: integrand is skewed where counts are low, and 20 AU565 genes' guides
#: were off by up to 8e-3 with 5 nodes, 9e-4 with 7 and 1e-4 with 9
#: (:data:`QUADRATURE_ERROR`).
QUADRATURE_NODES = 7
#: The largest error of a guide's log marginal likelihood that
#: :data:`QUADRATURE_NODES` leaves, measured as above, by noise model.
QUADRATURE_ERROR = {"constant_cv": 1e-4, "per_read": 1e-3}
NEWTON_STEPS = 2
_LN2 = float(np.log(2.0))
#: The priors' scales: normal for the intercept, the slope and the level
#: means (about the intercept), half-normal for the sds and ``excess_cv``.
#: :mod:`crispr_models.screen.genome` refits some of them outside PyMC.
#: The genes' Student-t degrees of freedom: a gamma prior (shape, rate),
#: mean 20, which holds both heavy tails and a nearly normal spread
#: (Juárez and Steel 2010).
GENE_DF_PRIOR = (2.0, 0.1)
#: The genes' priors :func:`read_count_model` knows: ``"student_t"`` lets
#: a screen's few strongly depleted (essential) genes lie far from the rest
#: without pulling them in with the rest.
GENE_PRIORS = ("student_t", "normal")
PRIOR_SCALES = {
    "intercept": 1.0,
    "cn_slope": 0.5,
    "cn_level_mean": 1.0,
    "sigma_gene": 1.0,
    "sigma_guide": 0.5,
    "excess_cv": 0.5,
    "excess_per_read": 100.0,
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


#: A focal amplicon, a run of segments at the top level (merged when less
#: than :data:`AMPLICON_MERGE_DISTANCE` bases apart), gets a level of its
#: own (``"by_amplicon"``) if it holds at least this many genes: with fewer,
#: the level's mean would be its genes' own effects.
MIN_AMPLICON_GENES = 10
AMPLICON_MERGE_DISTANCE = 5e6


@dataclass(frozen=True)
class GeneLayout:
    """Which gene each guide belongs to, and the copy-number levels of each
    guide and of each gene (the level of its guides' median copy number),
    labelled by ``level_labels``: copy numbers 0 to the top level, then,
    when focal amplicons are split off the top level, one per amplicon."""

    gene_index: np.ndarray
    genes: pd.Index
    guide_level: np.ndarray
    gene_level: np.ndarray
    level_labels: tuple[str, ...] = tuple(copy_number_labels())

    @classmethod
    def of(cls, screen: Screen, split_amplicons: bool = False) -> GeneLayout:
        """``screen``'s layout; with ``split_amplicons``, each focal
        amplicon of :data:`MIN_AMPLICON_GENES` or more of its genes at the
        top level has a level of its own (its genes and guides at the top
        level move there; the others stay on the shared top level)."""
        gene_index, genes = pd.factorize(screen.guides["gene"])
        copy_number = screen.guides["copy_number"].to_numpy(float)
        gene_copy_number = pd.Series(copy_number).groupby(gene_index).median().to_numpy()
        guide_level = copy_number_level(copy_number)
        gene_level = copy_number_level(gene_copy_number)
        labels = copy_number_labels()
        if split_amplicons and screen.segments is not None:
            chromosome = screen.guides["chr"].to_numpy()
            position = screen.guides["position"].to_numpy(float)
            places = screen.gene_places().reindex(genes)
            gene_position = places["position"].to_numpy(float)
            gene_chromosome = places["chr"].to_numpy()
            found = amplicons(
                screen.segments,
                min_copies=TOP_COPY_LEVEL - 0.5,
                merge_distance=AMPLICON_MERGE_DISTANCE,
            )
            for row in found.itertuples():
                genes_inside = (
                    (gene_chromosome == row.chr)
                    & (gene_position >= row.start)
                    & (gene_position <= row.end)
                    & (gene_level == TOP_COPY_LEVEL)
                )
                if genes_inside.sum() < MIN_AMPLICON_GENES:
                    continue
                guides_inside = (
                    (chromosome == row.chr)
                    & (position >= row.start)
                    & (position <= row.end)
                    & (guide_level == TOP_COPY_LEVEL)
                )
                gene_level = np.where(genes_inside, len(labels), gene_level)
                guide_level = np.where(guides_inside, len(labels), guide_level)
                labels.append(f"{copy_number_label(TOP_COPY_LEVEL)} {row.amplicon}")
        return cls(gene_index, genes, guide_level, gene_level, tuple(labels))

    @classmethod
    def for_effect(cls, screen: Screen, effect: object) -> GeneLayout:
        """``screen``'s layout for a copy-number effect with one value per
        level (``None``: none), its amplicons split off if it has more
        levels than copy numbers."""
        split = effect is not None and np.shape(effect)[-1] > TOP_COPY_LEVEL + 1
        layout = cls.of(screen, split_amplicons=split)
        if effect is not None and np.shape(effect)[-1] != len(layout.level_labels):
            raise ValueError(
                f"the copy-number effect has {np.shape(effect)[-1]} levels; this screen's "
                f"layout has {len(layout.level_labels)}: {', '.join(layout.level_labels)}"
            )
        return layout

    @property
    def level_copies(self) -> np.ndarray:
        """Each level's copy number (an amplicon's: the top level's)."""
        return np.minimum(np.arange(len(self.level_labels)), TOP_COPY_LEVEL)

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


def expand_to_layout(effect: np.ndarray, layout: GeneLayout) -> np.ndarray:
    """A copy-number effect per copy number, with each amplicon's level of
    ``layout`` started at the top level's value."""
    effect = np.asarray(effect, dtype=float)
    extra = len(layout.level_labels) - effect.shape[-1]
    return np.concatenate([effect, np.repeat(effect[..., -1:], extra, axis=-1)], axis=-1)


def _copy_number_effect(kind: str, intercept: object, layout: GeneLayout) -> object:
    """:math:`f` at every level (zero at two copies), recorded as
    ``copy_number_effect``; ``None`` for ``"none"``."""
    if kind == "none":
        return None
    if kind == "linear":
        slope = pm.Normal("cn_slope", mu=0.0, sigma=PRIOR_SCALES["cn_slope"])
        effect = slope * (layout.level_copies - DIPLOID)
    else:
        # sampled as level means a + f(c): the counts fix those, not f alone
        level_mean = pm.Normal(
            "cn_level_mean", mu=intercept, sigma=PRIOR_SCALES["cn_level_mean"], dims="cn_level"
        )
        free = pm.Deterministic("cn_effect", level_mean - intercept, dims="cn_level")
        effect = pt.concatenate([free[:DIPLOID], pt.zeros(1), free[DIPLOID:]])
    return pm.Deterministic("copy_number_effect", effect, dims="copy_number")


def negative_binomial_parameters(noise: str, mu: np.ndarray, value: float) -> tuple:
    """numpy's and scipy's ``(n, p)`` of counts of mean ``mu`` under
    ``noise`` with its parameter's ``value``: NB2's ``n = alpha``, NB1's
    ``n = mu / phi`` with ``p = 1 / (1 + phi)``."""
    mu = np.asarray(mu, dtype=float)
    if noise == "constant_cv":
        alpha = 1.0 / value**2
        return alpha, alpha / (alpha + mu)
    return mu / value, np.full_like(mu, 1.0 / (1.0 + value))


def noise_of(draw: dict) -> str:
    """The noise model whose parameter ``draw`` holds."""
    found = [noise for noise, name in NOISE_PARAMETERS.items() if name in draw]
    if len(found) != 1:
        raise ValueError(
            f"a draw holds the parameter of exactly one noise model "
            f"({', '.join(NOISE_PARAMETERS.values())}); this one has {sorted(draw)}"
        )
    return found[0]


def read_count_model(
    screen: Screen,
    copy_number_effect: str = "by_level",
    noise: str = "per_read",
    gene_prior: str = "student_t",
) -> pm.Model:
    """The model above on ``screen``; see the module docstring."""
    check_choice("copy_number_effect", copy_number_effect, COPY_NUMBER_EFFECTS)
    check_choice("noise", noise, tuple(NOISE_PARAMETERS))
    check_choice("gene_prior", gene_prior, GENE_PRIORS)
    if not isinstance(screen, Screen):
        raise TypeError(
            f"screen must be a crispr_models.screen.data.Screen, got {type(screen).__name__}"
        )
    layout = GeneLayout.of(screen, split_amplicons=copy_number_effect == "by_amplicon")
    coords = {"gene": list(layout.genes)}
    if copy_number_effect != "none":
        coords["copy_number"] = list(layout.level_labels)
    if copy_number_effect in ("by_level", "by_amplicon"):
        coords["cn_level"] = [label for label in layout.level_labels if label != str(DIPLOID)]
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("intercept", mu=0.0, sigma=PRIOR_SCALES["intercept"])
        effect = _copy_number_effect(copy_number_effect, intercept, layout)
        gene_shift = layout.gene_shift(effect)
        sigma_gene = pm.HalfNormal("sigma_gene", sigma=PRIOR_SCALES["sigma_gene"])
        if gene_prior == "normal":
            gene_lfc = pm.Normal(
                "gene_lfc", mu=intercept + gene_shift, sigma=sigma_gene, dims="gene"
            )
        else:
            shape, rate = GENE_DF_PRIOR
            gene_df = pm.Gamma("gene_df", alpha=shape, beta=rate)
            # a few hundred genes pin sigma_gene and gene_df poorly together:
            # on 300 AU565 genes NUTS gave sigma_gene a bulk ESS of 31 in
            # 1,000 draws (14 non-centred); the genome-wide fit, with every
            # gene, estimates both (genome_wide_fit)
            gene_lfc = pm.StudentT(
                "gene_lfc", nu=gene_df, mu=intercept + gene_shift, sigma=sigma_gene, dims="gene"
            )
        pm.Deterministic("gene_effect", gene_lfc - gene_shift, dims="gene")
        sigma_guide = pm.HalfNormal("sigma_guide", sigma=PRIOR_SCALES["sigma_guide"])
        name = NOISE_PARAMETERS[noise]
        noise_value = pm.HalfNormal(name, sigma=PRIOR_SCALES[name])
        pm.Potential(
            "counts_log_likelihood",
            integrated_log_likelihood(
                screen, layout.guide_means(gene_lfc, effect), sigma_guide, noise, noise_value
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
    (:func:`_one_dispersion_constant_terms`). What remains per count is one
    ``logaddexp`` (:func:`_mean_terms`).
    """
    counts = np.asarray(counts, dtype=np.int64)
    return _one_dispersion_constant_terms(counts, alpha) + pt.sum(
        _mean_terms(counts, log_mu, alpha)
    )


def _one_dispersion_constant_terms(counts: np.ndarray, alpha: object) -> object:
    """The terms of the summed NB2 log density free of the means."""
    values, multiplicity = np.unique(counts, return_counts=True)
    constant = -float(np.sum(multiplicity * gammaln(values + 1.0)))
    values, multiplicity = _as_float_x(values, multiplicity)
    gamma_terms = pt.sum(multiplicity * (pt.gammaln(values + alpha) - pt.gammaln(alpha)))
    return constant + gamma_terms + counts.size * alpha * pt.log(alpha)


def _mean_terms(counts: object, log_mu: object, alpha: object) -> object:
    """Per count, the terms of the NB2 log density with the mean."""
    return counts * log_mu - (alpha + counts) * pt.logaddexp(pt.log(alpha), log_mu)


def _count_constant_terms(noise: str, counts: np.ndarray, value: object) -> object:
    """The terms of the counts' summed log density free of the means, under
    ``noise`` with its parameter's ``value``."""
    value = _as_tensor(value)
    if noise == "constant_cv":
        return _one_dispersion_constant_terms(counts, 1.0 / value**2)
    # NB1: y log(phi / (1 + phi)) - log y!
    constant = -float(np.sum(gammaln(counts + 1.0)))
    return constant + float(np.sum(counts)) * (pt.log(value) - pt.log1p(value))


def count_log_terms(noise: str, counts: object, log_mu: object, value: object) -> object:
    """Per count, the terms of its log density that hold the mean, under
    ``noise`` with its parameter's ``value`` (broadcasting)."""
    value = _as_tensor(value)
    if noise == "constant_cv":
        return _mean_terms(counts, log_mu, 1.0 / value**2)
    shape = pt.exp(log_mu) / value  # NB1: alpha = mu / phi
    return pt.gammaln(counts + shape) - pt.gammaln(shape) - shape * pt.log1p(value)


def _count_log_derivatives(noise: str, counts, log_mu, value):
    """The slope of :func:`count_log_terms` in log mu and minus its second
    derivative (NB2); for NB1 the quasi-likelihood's, of a variance
    mu (1 + phi): (y - mu) / (1 + phi) and mu / (1 + phi). They only place
    the quadrature (its weights correct the rest), and NB1's own need the
    digamma function, whose derivative, the trigamma, PyTensor's numba
    backend runs in object mode (20 times slower)."""
    if noise == "constant_cv":
        alpha = 1.0 / value**2
        share = pt.sigmoid(log_mu - pt.log(alpha))  # mu / (alpha + mu)
        return counts - (alpha + counts) * share, (alpha + counts) * share * (1.0 - share)
    mu = pt.exp(log_mu)
    return (counts - mu) / (1.0 + value), mu / (1.0 + value)


def _log_count_variance(noise: str, counts: np.ndarray, value: object) -> object:
    """Per count, about the variance of its log (delta method)."""
    if noise == "constant_cv":
        return 1.0 / (counts + 0.5) + value**2
    return (1.0 + value) / (counts + 0.5)


def integrated_log_likelihood(
    screen: Screen, guide_mean: object, sigma_guide: object, noise: str, value: object
) -> object:
    """The counts' log likelihood with each guide's fold change integrated
    out (:func:`guide_log_marginal`), under ``noise`` with its parameter's
    ``value``."""
    counts = screen.counts().astype(np.int64)
    marginal, _, _ = guide_log_marginal(
        counts, screen.expected_log_counts(), guide_mean, sigma_guide, noise, value
    )
    return _count_constant_terms(noise, counts, value) + pt.sum(marginal)


def guide_log_marginal(
    counts: np.ndarray,
    log_offset: np.ndarray,
    guide_mean: object,
    sigma_guide: object,
    noise: str,
    value: object,
) -> tuple[object, object, object]:
    r"""Per guide, :math:`\log \int \prod_r e^{k(y_{sr}, \theta)}\,
    N(\theta \mid m_s, \sigma_\text{guide})\, d\theta` with :math:`k` the
    terms of the count's log density with the mean (:func:`count_log_terms`),
    and the integrand's mode and Laplace scale.

    The mode is found by :data:`NEWTON_STEPS` Newton steps (NB2, which is
    log-concave in the mean; NB1: steps on its quasi-likelihood,
    :func:`_count_log_derivatives`) from the precision-weighted mean of
    :math:`m_s` and the guide's observed fold change; then
    :data:`QUADRATURE_NODES`-point Gauss-Hermite quadrature on the normal of
    that mode and scale, weighted by integrand / normal, so that it stays
    exact when a guide's counts sit far from its gene.
    """
    counts, log_offset = _as_float_x(counts, log_offset)
    value = _as_tensor(value)
    replicates = counts.shape[1]
    observed = np.mean(np.log2((counts + 0.5) / np.exp(log_offset)), axis=1)
    observed_var = pt.mean(_log_count_variance(noise, counts, value), axis=1) / (
        replicates * _LN2**2
    )
    prior_precision = 1.0 / sigma_guide**2
    # Everything is computed as the offset from the guide's mean, never as
    # theta - mean: with a small sigma_guide the prior precision is huge and
    # the rounding error of that difference, squared and multiplied by it,
    # made the log density noisy (a chain drifted to sigma_guide = 1e-18 and
    # its step size fell to 1e-5).
    offset = (observed - guide_mean) / observed_var / (prior_precision + 1.0 / observed_var)
    for _ in range(NEWTON_STEPS):
        slope, curvature = _log_integrand_derivatives(
            noise, counts, log_offset, guide_mean, offset, prior_precision, value
        )
        offset = offset + slope / curvature
    _, curvature = _log_integrand_derivatives(
        noise, counts, log_offset, guide_mean, offset, prior_precision, value
    )
    scale = 1.0 / pt.sqrt(curvature)
    nodes, weights = np.polynomial.hermite.hermgauss(QUADRATURE_NODES)
    nodes, log_weights = _as_float_x(nodes, np.log(weights / np.sqrt(np.pi)))
    # a Python float, which PyTensor casts to floatX (a numpy one stays float64)
    node_offset = offset[:, None] + 2.0**0.5 * scale[:, None] * nodes[None, :]
    theta = guide_mean[:, None] + node_offset
    log_mu = log_offset[:, :, None] + _LN2 * theta[:, None, :]
    data_terms = pt.sum(count_log_terms(noise, counts[:, :, None], log_mu, value), axis=1)
    log_prior = -0.5 * node_offset**2 * prior_precision - pt.log(sigma_guide)
    # the normal of the mode and scale at theta is exp(-node^2) / scale, up to sqrt(2 pi)
    log_proposal = -(nodes**2)[None, :] - pt.log(scale)[:, None]
    terms = data_terms + log_prior - log_proposal + log_weights
    return pt.logsumexp(terms, axis=1), guide_mean + offset, scale


def _as_tensor(value: object) -> object:
    """A parameter as a tensor: a Python number in floatX (PyTensor would
    make 70.0 a float32 constant, whose log, times a screen's millions of
    reads, is off by 0.05)."""
    if isinstance(value, pytensor.graph.basic.Variable):
        return value
    return pt.as_tensor_variable(np.asarray(value, dtype=pytensor.config.floatX))


def _as_float_x(*arrays: np.ndarray) -> list[np.ndarray]:
    """Numpy constants in PyTensor's float type, so that a float32 model
    (``floatX="float32"``) is not cast back to float64 by its data."""
    return [np.asarray(a, dtype=pytensor.config.floatX) for a in arrays]


def _log_integrand_derivatives(noise, counts, log_offset, mean, offset, prior_precision, value):
    """First derivative of the log integrand in theta at theta = mean +
    offset, and its curvature (minus the second derivative; NB1: its
    quasi-likelihood's, :func:`_count_log_derivatives`)."""
    log_mu = log_offset + _LN2 * (mean + offset)[:, None]
    first, curvature = _count_log_derivatives(noise, counts, log_mu, value)
    slope = _LN2 * pt.sum(first, axis=1)
    return slope - offset * prior_precision, _LN2**2 * pt.sum(curvature, axis=1) + prior_precision


def compile_guide_marginal(screen: Screen, noise: str) -> object:
    """A numpy function of (guide means, sigma_guide, the ``noise`` model's
    parameter) giving :func:`guide_log_marginal` for ``screen``'s guides: the
    same graph the model samples, compiled for the genome-wide integration
    and the predictive draws."""
    mean = pt.dvector("guide_mean")
    sigma = pt.dscalar("sigma_guide")
    value = pt.dscalar(NOISE_PARAMETERS[noise])
    outputs = guide_log_marginal(
        screen.counts(), screen.expected_log_counts(), mean, sigma, noise, value
    )
    return pytensor.function([mean, sigma, value], list(outputs))


def compile_count_terms(screen: Screen, noise: str) -> object:
    """A numpy function of the ``noise`` model's parameter: the counts'
    log-likelihood terms free of the means (:func:`_count_constant_terms`),
    which :func:`guide_log_marginal` leaves out and a fit of the noise needs."""
    value = pt.dscalar(NOISE_PARAMETERS[noise])
    counts = screen.counts().astype(np.int64)
    return pytensor.function([value], _count_constant_terms(noise, counts, value))


def compile_log_integrand(screen: Screen, noise: str) -> object:
    """A numpy function of (theta, guides x draws; guide means; sigma_guide;
    the ``noise`` model's parameter): each guide's log integrand at each
    theta, up to constants."""
    theta = pt.dmatrix("theta")
    mean = pt.dvector("guide_mean")
    sigma = pt.dscalar("sigma_guide")
    value = pt.dscalar(NOISE_PARAMETERS[noise])
    counts = screen.counts().astype(float)[:, :, None]
    log_mu = screen.expected_log_counts()[:, :, None] + _LN2 * theta[:, None, :]
    data_terms = pt.sum(count_log_terms(noise, counts, log_mu, value), axis=1)
    log_prior = -0.5 * ((theta - mean[:, None]) / sigma) ** 2
    return pytensor.function([theta, mean, sigma, value], data_terms + log_prior)
