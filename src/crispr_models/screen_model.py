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
two copies, :math:`a` the mean gene's, and :math:`f` the copy-number effect
shared by all guides, zero at two copies (diploid-centred):

- ``"none"``: :math:`f = 0`, the naive analysis as a model;
- ``"linear"``: :math:`f(c) = \gamma (c - 2)`;
- ``"by_level"``: one effect per copy number 0, 1, 3, 4, ..., with
  :math:`\geq` :data:`TOP_COPY_LEVEL` copies pooled, :math:`f(2) = 0`.

The extra-Poisson variation is :math:`1/\sqrt{\alpha}` (``excess_cv``), the
counts' coefficient of variation at large means, given a HalfNormal(0.5)
prior. ``parameterization`` is that of the gene and guide effects. On
CRISPY's AU565 screen the replicates agree poorly, so one guide's fold
change is weakly identified: the non-centred form mixed there and the
centred one did not (``sigma_guide`` r-hat 1.15-1.25 on 1,000 genes).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from scipy.special import gammaln

from crispr_models.input_checks import check_choice
from crispr_models.models import _hierarchical_normal
from crispr_models.screen_data import Screen
from crispr_models.settings import PARAMETERIZATIONS

#: The copy-number effects :func:`read_count_model` knows.
COPY_NUMBER_EFFECTS = ("none", "linear", "by_level")
#: Copy numbers from here up share one effect in ``"by_level"``: few guides
#: sit above it (about 1,400 of AU565's 83,000).
TOP_COPY_LEVEL = 8
#: Copy number where the copy-number effect is zero.
DIPLOID = 2


def copy_number_level(copy_number: object) -> np.ndarray:
    """Copy numbers as the levels of ``"by_level"``: rounded, capped at
    :data:`TOP_COPY_LEVEL`."""
    return np.minimum(np.rint(np.asarray(copy_number, dtype=float)), TOP_COPY_LEVEL).astype(int)


def copy_number_label(level: int) -> str:
    """A level's label: its copy number, the top level with a "+"."""
    return f"{level}+" if level >= TOP_COPY_LEVEL else str(level)


def copy_number_levels() -> list[str]:
    """The labels of the ``"by_level"`` effects, two copies excluded."""
    return [copy_number_label(c) for c in range(TOP_COPY_LEVEL + 1) if c != DIPLOID]


def _copy_number_effect(kind: str, copy_number: np.ndarray) -> object:
    """:math:`f(c_s)` in log2 fold change, one value per guide."""
    if kind == "none":
        return 0.0
    if kind == "linear":
        slope = pm.Normal("cn_slope", mu=0.0, sigma=0.5)
        return slope * (copy_number - DIPLOID)
    level = copy_number_level(copy_number)
    effects = pm.Normal("cn_effect", mu=0.0, sigma=1.0, dims="cn_level")
    # level 2 is the reference: its effect is a fixed zero
    with_diploid = pm.math.concatenate([effects[:DIPLOID], [0.0], effects[DIPLOID:]])
    return with_diploid[level]


def read_count_model(
    screen: Screen, copy_number_effect: str = "by_level", parameterization: str = "centred"
) -> pm.Model:
    """The model above on ``screen``; see the module docstring."""
    check_choice("copy_number_effect", copy_number_effect, COPY_NUMBER_EFFECTS)
    check_choice("parameterization", parameterization, PARAMETERIZATIONS)
    if not isinstance(screen, Screen):
        raise TypeError(f"screen must be a screen_data.Screen, got {type(screen).__name__}")
    guides = screen.guides
    gene_idx, genes = pd.factorize(guides["gene"])
    coords = {"gene": list(genes), "guide": list(guides.index)}
    if copy_number_effect == "by_level":
        coords["cn_level"] = copy_number_levels()
    with pm.Model(coords=coords) as model:
        intercept = pm.Normal("intercept", mu=0.0, sigma=1.0)
        sigma_gene = pm.HalfNormal("sigma_gene", sigma=1.0)
        gene_effect = _hierarchical_normal(
            "gene_effect", intercept, sigma_gene, "gene", parameterization
        )
        cn = _copy_number_effect(copy_number_effect, guides["copy_number"].to_numpy(float))
        sigma_guide = pm.HalfNormal("sigma_guide", sigma=0.5)
        guide_lfc = _hierarchical_normal(
            "guide_lfc",
            gene_effect[gene_idx] + cn,
            sigma_guide,
            "guide",
            parameterization,
        )
        log_mu = screen.expected_log_counts() + np.log(2.0) * guide_lfc[:, None]
        excess_cv = pm.HalfNormal("excess_cv", sigma=0.5)
        pm.Potential(
            "counts_log_likelihood",
            negative_binomial_log_likelihood(screen.counts(), log_mu, 1.0 / excess_cv**2),
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
    sum over their few thousand distinct values, exactly. What remains per
    count is one ``logaddexp``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    values, multiplicity = np.unique(counts, return_counts=True)
    constant = -np.sum(multiplicity * gammaln(values + 1.0))
    gamma_terms = pm.math.sum(multiplicity * (pt.gammaln(values + alpha) - pt.gammaln(alpha)))
    per_count = counts * log_mu - (alpha + counts) * pt.logaddexp(pt.log(alpha), log_mu)
    return constant + gamma_terms + counts.size * alpha * pt.log(alpha) + pm.math.sum(per_count)
