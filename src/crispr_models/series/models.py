"""PyMC model builders, one per experiment.

Each builder takes the tidy observations from :mod:`crispr_models.series.simulation`
(or real data in the same columns) and returns a ``pm.Model`` with named dims
and coords. The priors are the original series' (see each docstring).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm

from crispr_models.core.input_checks import check_choice, check_positive_real
from crispr_models.core.settings import PARAMETERIZATIONS

#: Columns that must hold finite numbers when a model uses them.
NUMERIC_COLUMNS = ("rna", "logfc", "gene_expression", "cna", "cna_z")
#: How a model ties cell-line effects down: ``free`` (own mean, the originals)
#: or ``zero_sum`` (effects sum to zero, so the intercepts keep the mean).
CELL_LINE_EFFECTS = ("free", "zero_sum")
#: Models 5 and 7 may also leave the cell lines out: a deliberately missing
#: effect, for the predictive checks to find.
SGRNA_CELL_LINE_EFFECTS = (*CELL_LINE_EFFECTS, "none")


def _check_observations(observations: object, columns: tuple[str, ...]) -> pd.DataFrame:
    """Refuse anything but a DataFrame with ``columns``, numeric ones finite."""
    if not isinstance(observations, pd.DataFrame):
        raise TypeError(
            f"observations must be a pandas.DataFrame, got {type(observations).__name__}"
        )
    missing = [c for c in columns if c not in observations.columns]
    if missing:
        raise ValueError(
            f"observations is missing column(s) {missing}; expected columns {list(columns)}"
        )
    if observations.empty:
        raise ValueError("observations has no rows")
    for column in columns:
        if column in NUMERIC_COLUMNS:
            values = pd.to_numeric(observations[column], errors="coerce").to_numpy()
            if not np.all(np.isfinite(values)):
                raise ValueError(f"observations[{column!r}] must hold finite numbers only")
    return observations


def _codes(observations: pd.DataFrame, column: str) -> tuple[np.ndarray, list[str]]:
    """Integer index per row and the labels of ``column``, in category order.

    Only labels that occur: a subset of the data (cell lines left out, say)
    keeps its categorical column's other categories, and an effect for a
    group without data would be a free parameter (and would break a
    zero-sum constraint)."""
    values = pd.Categorical(observations[column]).remove_unused_categories()
    return values.codes, [str(v) for v in values.categories]


#: Name of the data container holding the observed logFC in every model.
OBSERVED_DATA = "logfc_observed"


def _likelihood(mu: object, sigma: object, observations: pd.DataFrame) -> None:
    # The observations sit in a data container, so a compiled model can be
    # given new data without compiling again (simulation-based calibration).
    observed = pm.Data(OBSERVED_DATA, observations["logfc"].to_numpy(dtype=float), dims="obs")
    pm.Normal("logfc", mu=mu, sigma=sigma, observed=observed, dims="obs")


def single_gene_rna_model(observations: pd.DataFrame) -> pm.Model:
    r"""Model 1: one gene, logFC linear in RNA expression.

    .. math::
        \text{logFC}_c \sim N(\alpha + \beta R_c, \sigma),\quad
        \alpha \sim N(0, 10),\ \beta \sim N(0, 1),\ \sigma \sim \text{HalfNormal}(5)
    """
    observations = _check_observations(observations, ("rna", "logfc"))
    coords = {"obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        rna = pm.Data("rna", observations["rna"].to_numpy(dtype=float), dims="obs")
        alpha = pm.Normal("alpha", mu=0.0, sigma=10.0)
        beta = pm.Normal("beta", mu=0.0, sigma=1.0)
        sigma = pm.HalfNormal("sigma", sigma=5.0)
        _likelihood(alpha + beta * rna, sigma, observations)
    return model


def multigene_rna_model(observations: pd.DataFrame) -> pm.Model:
    r"""Model 2: varying intercept and RNA slope per gene, partially pooled.

    .. math::
        \text{logFC}_{gc} &\sim N(\alpha_g + \beta_g R_{gc}, \sigma) \\
        \alpha_g \sim N(\mu_\alpha, \sigma_\alpha),&\quad
        \mu_\alpha \sim N(0, 5),\ \sigma_\alpha \sim \text{HalfNormal}(5) \\
        \beta_g \sim N(\mu_\beta, \sigma_\beta),&\quad
        \mu_\beta \sim N(0, 2),\ \sigma_\beta \sim \text{HalfNormal}(2) \\
        \sigma &\sim \text{HalfNormal}(5)

    Centred on purpose: with tens of cell lines per gene the likelihood pins
    each gene's effects down, where the centred form samples better than the
    non-centred one.
    """
    observations = _check_observations(observations, ("gene", "rna", "logfc"))
    gene_idx, genes = _codes(observations, "gene")
    coords = {"gene": genes, "obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        rna = pm.Data("rna", observations["rna"].to_numpy(dtype=float), dims="obs")
        gene = pm.Data("gene_idx", gene_idx, dims="obs")

        mu_alpha = pm.Normal("mu_alpha", mu=0.0, sigma=5.0)
        sigma_alpha = pm.HalfNormal("sigma_alpha", sigma=5.0)
        mu_beta = pm.Normal("mu_beta", mu=0.0, sigma=2.0)
        sigma_beta = pm.HalfNormal("sigma_beta", sigma=2.0)

        alpha = pm.Normal("alpha", mu=mu_alpha, sigma=sigma_alpha, dims="gene")
        beta = pm.Normal("beta", mu=mu_beta, sigma=sigma_beta, dims="gene")
        sigma = pm.HalfNormal("sigma", sigma=5.0)

        _likelihood(alpha[gene] + beta[gene] * rna, sigma, observations)
    return model


def _gene_of_sgrna(observations: pd.DataFrame, sgrnas: list[str], genes: list[str]) -> np.ndarray:
    """Each sgRNA's gene index; an sgRNA may target one gene only."""
    pairs = observations[["sgrna", "gene"]].astype(str).drop_duplicates()
    shared = pairs["sgrna"][pairs["sgrna"].duplicated()].unique()
    if len(shared):
        raise ValueError(f"each sgRNA must target one gene; {list(shared)} target several")
    gene_by_sgrna = pairs.set_index("sgrna")["gene"]
    return np.array([genes.index(gene_by_sgrna[s]) for s in sgrnas])


def _hierarchical_normal(
    name: str, mu: object, sigma: object, dims: str, parameterization: str
) -> object:
    """``name ~ N(mu, sigma)``, centred or as ``mu + sigma * name_z``.

    The non-centred form samples the standardised ``name_z`` and keeps
    ``name`` as a deterministic, so tables and plots read the same.
    """
    if parameterization == "centred":
        return pm.Normal(name, mu=mu, sigma=sigma, dims=dims)
    z = pm.Normal(f"{name}_z", mu=0.0, sigma=1.0, dims=dims)
    return pm.Deterministic(name, mu + sigma * z, dims=dims)


def _zero_sum_normal(name: str, sigma: object, dims: str, parameterization: str) -> object:
    """Effects constrained to sum to zero, centred or as ``sigma * name_z``."""
    if parameterization == "centred":
        return pm.ZeroSumNormal(name, sigma=sigma, dims=dims)
    z = pm.ZeroSumNormal(f"{name}_z", sigma=1.0, dims=dims)
    return pm.Deterministic(name, sigma * z, dims=dims)


def _original_gene_lines() -> tuple[object, object]:
    """Model 3's original gene intercepts and RNA slopes, each N(mean, sd) with
    mean N(0, 2) and sd Exponential(1), inside the current model."""
    lines = []
    for name in ("gamma", "delta"):
        mean = pm.Normal(f"mu_{name}", mu=0.0, sigma=2.0)
        sd = pm.Exponential(f"sigma_{name}", 1.0)
        lines.append(pm.Normal(name, mu=mean, sigma=sd, dims="gene"))
    return lines[0], lines[1]


def misplaced_predictor_model(observations: pd.DataFrame) -> pm.Model:
    r"""Model 3 as the original wrote it: a cell-line predictor in a gene prior.

    .. math::
        \alpha_g \sim N(\gamma_g + \delta_g R_{gc}, \sigma_\alpha),\quad
        \text{logFC} \sim N(\alpha_g, \sigma)

    :math:`\alpha_g` is meant to be one value per gene, but its mean changes
    with the cell line, so written out the "gene intercept" becomes one value
    per row (``dims="obs"``): a row-level effect whose sd
    :math:`\sigma_\alpha` the data cannot tell from the noise :math:`\sigma`.
    Built to show that; not a model to use. Priors: means N(0, 2), scales
    Exponential(1).
    """
    observations = _check_observations(observations, ("gene", "rna", "logfc"))
    gene_idx, genes = _codes(observations, "gene")
    coords = {"gene": genes, "obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        rna = pm.Data("rna", observations["rna"].to_numpy(dtype=float), dims="obs")
        gene = pm.Data("gene_idx", gene_idx, dims="obs")
        gamma, delta = _original_gene_lines()
        sigma_alpha = pm.Exponential("sigma_alpha", 1.0)
        alpha = pm.Normal(
            "alpha", mu=gamma[gene] + delta[gene] * rna, sigma=sigma_alpha, dims="obs"
        )
        sigma = pm.Exponential("sigma", 1.0)
        _likelihood(alpha, sigma, observations)
    return model


def replicated_intercept_model(observations: pd.DataFrame) -> pm.Model:
    r"""Model 3's formula read with one intercept per gene and cell line.

    .. math::
        \text{logFC}_{gcr} \sim N(\alpha_{gc}, \sigma),\quad
        \alpha_{gc} \sim N(\gamma_g + \delta_g R_{gc}, \sigma_\alpha)

    The original's formula, with :math:`\alpha` indexed by what its mean
    varies with: gene and cell line. The replicates of a gene and cell line
    share :math:`\alpha_{gc}`, so their scatter measures :math:`\sigma` and
    the scatter of the :math:`\alpha_{gc}` around each gene's line measures
    :math:`\sigma_\alpha`: identifiable, unlike the row-level reading
    (:func:`misplaced_predictor_model`). :math:`\alpha` is non-centred
    (its sd may be near zero). Priors as the row-level reading's.
    """
    observations = _check_observations(observations, ("gene", "cell_line", "rna", "logfc"))
    gene_idx, genes = _codes(observations, "gene")
    cell_idx, cell_lines = _codes(observations, "cell_line")
    # One expression value per gene and cell line (the replicates share it).
    rna_by_pair = np.zeros((len(genes), len(cell_lines)))
    rna_by_pair[gene_idx, cell_idx] = observations["rna"].to_numpy(dtype=float)
    coords = {"gene": genes, "cell_line": cell_lines, "obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        rna = pm.Data("rna_by_gene_and_cell_line", rna_by_pair, dims=("gene", "cell_line"))
        gene = pm.Data("gene_idx", gene_idx, dims="obs")
        cell = pm.Data("cell_line_idx", cell_idx, dims="obs")
        gamma, delta = _original_gene_lines()
        sigma_alpha = pm.Exponential("sigma_alpha", 1.0)
        alpha_z = pm.Normal("alpha_z", 0.0, 1.0, dims=("gene", "cell_line"))
        alpha = pm.Deterministic(
            "alpha",
            gamma[:, None] + delta[:, None] * rna + sigma_alpha * alpha_z,
            dims=("gene", "cell_line"),
        )
        sigma = pm.Exponential("sigma", 1.0)
        _likelihood(alpha[gene, cell], sigma, observations)
    return model


def gene_level_predictor_model(observations: pd.DataFrame) -> pm.Model:
    r"""Model 3 done right: a gene-level predictor in the gene-level regression.

    .. math::
        \text{logFC}_{gcr} &\sim N(\alpha_g + \beta_g R_{gc}, \sigma) \\
        \alpha_g &\sim N(\mu_\gamma + \delta x_g, \sigma_\gamma),\quad
        \beta_g \sim N(\mu_\beta, \sigma_\beta)

    :math:`x_g` (column ``gene_expression``) is a property of the gene, one
    value per gene; :math:`R_{gc}` (``rna``) varies by cell line and so sits
    in the likelihood. Priors: :math:`\mu_\gamma \sim N(0, 2)`,
    :math:`\delta, \mu_\beta \sim N(0, 1)`, scales Exponential(1). Centred:
    every gene has tens of observations.
    """
    observations = _check_observations(observations, ("gene", "gene_expression", "rna", "logfc"))
    gene_idx, genes = _codes(observations, "gene")
    per_gene = observations.groupby(gene_idx)["gene_expression"]
    if (per_gene.nunique() > 1).any():
        raise ValueError("observations['gene_expression'] must be constant within each gene")
    coords = {"gene": genes, "obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        rna = pm.Data("rna", observations["rna"].to_numpy(dtype=float), dims="obs")
        gene = pm.Data("gene_idx", gene_idx, dims="obs")
        x = pm.Data("gene_expression", per_gene.first().to_numpy(dtype=float), dims="gene")
        mu_gamma = pm.Normal("mu_gamma", mu=0.0, sigma=2.0)
        delta = pm.Normal("delta", mu=0.0, sigma=1.0)
        sigma_gamma = pm.Exponential("sigma_gamma", 1.0)
        alpha = pm.Normal("alpha", mu=mu_gamma + delta * x, sigma=sigma_gamma, dims="gene")
        mu_beta = pm.Normal("mu_beta", mu=0.0, sigma=1.0)
        sigma_beta = pm.Exponential("sigma_beta", 1.0)
        beta = pm.Normal("beta", mu=mu_beta, sigma=sigma_beta, dims="gene")
        sigma = pm.Exponential("sigma", 1.0)
        _likelihood(alpha[gene] + beta[gene] * rna, sigma, observations)
    return model


SCALE_PRIORS = ("exponential", "halfnormal")


def _scale(name: str, scale_prior: str) -> object:
    if scale_prior == "exponential":
        return pm.Exponential(name, 1.0)
    return pm.HalfNormal(name, sigma=5.0)


def _cell_line_effect(
    name: str, mean_prior_sd: float, dims: str, how: str, scale_prior: str = "exponential"
) -> object:
    """Free cell-line effects with their own mean, or zero-sum ones."""
    sigma = _scale(f"sigma_{name}", scale_prior)
    if how == "zero_sum":
        return pm.ZeroSumNormal(name, sigma=sigma, dims=dims)
    mu = pm.Normal(f"mu_{name}", mu=0.0, sigma=mean_prior_sd)
    return pm.Normal(name, mu=mu, sigma=sigma, dims=dims)


def gene_cell_line_rna_model(
    observations: pd.DataFrame,
    *,
    cell_line_effect: str = "free",
    scale_prior: str = "exponential",
) -> pm.Model:
    r"""Model 4: gene and cell-line intercepts plus a gene RNA slope.

    .. math::
        \text{logFC}_{gcr} &\sim N(\alpha_g + \gamma_c + \beta_g R_{gc}, \sigma) \\
        \alpha_g \sim N(\mu_\alpha, \sigma_\alpha),\quad
        &\gamma_c \sim N(\mu_\gamma, \sigma_\gamma),\quad
        \beta_g \sim N(\mu_\beta, \sigma_\beta)

    with :math:`\mu_\alpha, \mu_\gamma \sim N(0, 2)`, :math:`\mu_\beta \sim
    N(0, 1)` and every scale Exponential(1) (``scale_prior="halfnormal"``:
    HalfNormal(5), the original's alternative). With
    ``cell_line_effect="free"`` (the original) only :math:`\alpha_g +
    \gamma_c` is identified; ``"zero_sum"`` makes :math:`\gamma`
    a ``ZeroSumNormal``, so :math:`\alpha_g` carries the mean cell line.
    """
    check_choice("cell_line_effect", cell_line_effect, CELL_LINE_EFFECTS)
    check_choice("scale_prior", scale_prior, SCALE_PRIORS)
    observations = _check_observations(observations, ("gene", "cell_line", "rna", "logfc"))
    gene_idx, genes = _codes(observations, "gene")
    cell_idx, cell_lines = _codes(observations, "cell_line")
    coords = {"gene": genes, "cell_line": cell_lines, "obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        rna = pm.Data("rna", observations["rna"].to_numpy(dtype=float), dims="obs")
        gene = pm.Data("gene_idx", gene_idx, dims="obs")
        cell = pm.Data("cell_line_idx", cell_idx, dims="obs")
        mu_alpha = pm.Normal("mu_alpha", mu=0.0, sigma=2.0)
        alpha = pm.Normal(
            "alpha", mu=mu_alpha, sigma=_scale("sigma_alpha", scale_prior), dims="gene"
        )
        gamma = _cell_line_effect("gamma", 2.0, "cell_line", cell_line_effect, scale_prior)
        mu_beta = pm.Normal("mu_beta", mu=0.0, sigma=1.0)
        beta = pm.Normal("beta", mu=mu_beta, sigma=_scale("sigma_beta", scale_prior), dims="gene")
        sigma = _scale("sigma", scale_prior)
        _likelihood(alpha[gene] + gamma[cell] + beta[gene] * rna, sigma, observations)
    return model


def sgrna_cell_line_model(
    observations: pd.DataFrame, *, cell_line_effect: str = "zero_sum"
) -> pm.Model:
    r"""Models 5 and 7: sgRNAs nested in genes plus a cell-line effect.

    .. math::
        \text{logFC}_{sc} &\sim N(\alpha_s + \beta_c, \sigma) \\
        \alpha_s \sim N(\gamma_{g[s]}, \sigma_\alpha),\quad
        &\gamma_g \sim N(\mu_\gamma, \sigma_\gamma),\quad
        \beta_c \sim N(\mu_\beta, \sigma_\beta)

    with :math:`\mu_\gamma, \mu_\beta \sim N(0, 5)` and every scale
    Exponential(1). ``cell_line_effect="free"`` is the original (only
    :math:`\alpha_s + \beta_c` identified, and only the priors on the two
    means hold their split); ``"zero_sum"`` (the default) makes
    :math:`\beta` a ``ZeroSumNormal`` and drops :math:`\mu_\beta`; ``"none"``
    leaves :math:`\beta` out, a model that cannot represent how the data arose.
    """
    check_choice("cell_line_effect", cell_line_effect, SGRNA_CELL_LINE_EFFECTS)
    observations = _check_observations(observations, ("sgrna", "gene", "cell_line", "logfc"))
    sgrna_idx, sgrnas = _codes(observations, "sgrna")
    _, genes = _codes(observations, "gene")
    cell_idx, cell_lines = _codes(observations, "cell_line")
    gene_of_sgrna = _gene_of_sgrna(observations, sgrnas, genes)
    coords = {
        "gene": genes,
        "sgrna": sgrnas,
        "cell_line": cell_lines,
        "obs": np.arange(len(observations)),
    }
    with pm.Model(coords=coords) as model:
        sgrna = pm.Data("sgrna_idx", sgrna_idx, dims="obs")
        cell = pm.Data("cell_line_idx", cell_idx, dims="obs")
        mu_gamma = pm.Normal("mu_gamma", mu=0.0, sigma=5.0)
        sigma_gamma = pm.Exponential("sigma_gamma", 1.0)
        gamma = pm.Normal("gamma", mu=mu_gamma, sigma=sigma_gamma, dims="gene")
        sigma_alpha = pm.Exponential("sigma_alpha", 1.0)
        alpha = pm.Normal("alpha", mu=gamma[gene_of_sgrna], sigma=sigma_alpha, dims="sgrna")
        mu = alpha[sgrna]
        if cell_line_effect != "none":
            mu = mu + _cell_line_effect("beta", 5.0, "cell_line", cell_line_effect)[cell]
        sigma = pm.Exponential("sigma", 1.0)
        _likelihood(mu, sigma, observations)
    return model


COVARIATES = ("cna", "cna_diploid", "cna_z")
GLOBAL_INTERCEPTS = ("none", "redundant", "zero_sum")


def sgrna_copy_number_model(
    observations: pd.DataFrame,
    *,
    covariate: str = "cna",
    parameterization: str = "centred",
    global_intercept: str = "none",
) -> pm.Model:
    r"""Model 6: sgRNA intercept and copy-number slope, nested in genes.

    .. math::
        \text{logFC} &\sim N(\alpha_s + \beta_s X, \sigma) \\
        \alpha_s \sim N(\gamma_{g[s]}, \sigma_\alpha),&\quad
        \gamma_g \sim N(\mu_\gamma, \sigma_\gamma) \\
        \beta_s \sim N(\delta_{g[s]}, \sigma_\beta),&\quad
        \delta_g \sim N(\mu_\delta, \sigma_\delta)

    with :math:`\mu_\gamma, \mu_\delta \sim N(-1, 5)` and every scale
    Exponential(1), the original's priors. ``covariate`` picks :math:`X`:
    ``"cna"``, the raw copy number the data were simulated with (the
    intercepts are the effects at zero copies), ``"cna_diploid"``, the copy
    number minus 2 (the intercepts are the effects at two copies, the
    diploid state), or ``"cna_z"``, copy number z-scored within gene, which
    the original fitted.
    ``parameterization="non_centred"`` samples the four effect vectors as
    standard normals. ``global_intercept``: ``"none"`` (the model above),
    ``"redundant"`` (the original model 6.2: :math:`\mu = \alpha + \alpha_s +
    \beta_s X` with :math:`\alpha \sim N(0, 3)`, non-identifiable next to
    :math:`\mu_\gamma`) or ``"zero_sum"`` (the same :math:`\alpha`, with
    zero-sum gene intercepts :math:`\gamma \sim \text{ZeroSumNormal}(\sigma_\gamma)`:
    :math:`\alpha` is the mean gene intercept, identifiable).
    """
    check_choice("covariate", covariate, COVARIATES)
    check_choice("parameterization", parameterization, PARAMETERIZATIONS)
    check_choice("global_intercept", global_intercept, GLOBAL_INTERCEPTS)
    observations = _check_observations(observations, ("sgrna", "gene", covariate, "logfc"))
    sgrna_idx, sgrnas = _codes(observations, "sgrna")
    _, genes = _codes(observations, "gene")
    gene_of_sgrna = _gene_of_sgrna(observations, sgrnas, genes)
    coords = {"gene": genes, "sgrna": sgrnas, "obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        x = pm.Data("copy_number", observations[covariate].to_numpy(dtype=float), dims="obs")
        sgrna = pm.Data("sgrna_idx", sgrna_idx, dims="obs")
        sigma_gamma = pm.Exponential("sigma_gamma", 1.0)
        if global_intercept == "zero_sum":
            gamma = _zero_sum_normal("gamma", sigma_gamma, "gene", parameterization)
        else:
            mu_gamma = pm.Normal("mu_gamma", mu=-1.0, sigma=5.0)
            gamma = _hierarchical_normal("gamma", mu_gamma, sigma_gamma, "gene", parameterization)
        mu_delta = pm.Normal("mu_delta", mu=-1.0, sigma=5.0)
        sigma_delta = pm.Exponential("sigma_delta", 1.0)
        delta = _hierarchical_normal("delta", mu_delta, sigma_delta, "gene", parameterization)
        sigma_alpha = pm.Exponential("sigma_alpha", 1.0)
        alpha = _hierarchical_normal(
            "alpha", gamma[gene_of_sgrna], sigma_alpha, "sgrna", parameterization
        )
        sigma_beta = pm.Exponential("sigma_beta", 1.0)
        beta = _hierarchical_normal(
            "beta", delta[gene_of_sgrna], sigma_beta, "sgrna", parameterization
        )
        mu = alpha[sgrna] + beta[sgrna] * x
        if global_intercept != "none":
            mu = pm.Normal("alpha_global", mu=0.0, sigma=3.0) + mu
        sigma = pm.Exponential("sigma", 1.0)
        _likelihood(mu, sigma, observations)
    return model


def correlated_sgrna_copy_number_model(
    observations: pd.DataFrame, *, covariate: str = "cna", eta: float = 2.0
) -> pm.Model:
    r"""Model 6 with each sgRNA's intercept and slope correlated (LKJ prior).

    .. math::
        \begin{pmatrix}\alpha_s \\ \beta_s\end{pmatrix} \sim
        \text{MvNormal}\left(\begin{pmatrix}\gamma_{g[s]} \\ \delta_{g[s]}
        \end{pmatrix}, \Sigma\right),\quad
        \Sigma = \text{diag}(\sigma_\alpha, \sigma_\beta)\, P\,
        \text{diag}(\sigma_\alpha, \sigma_\beta),\quad
        P \sim \text{LKJ}(\eta)

    Non-centred: ``z_s ~ N(0, I)`` and ``(alpha_s, beta_s) = mean + L z_s``
    with ``L`` the Cholesky factor from ``pm.LKJCholeskyCov`` (sds
    Exponential(1)). ``rho`` is the intercept-slope correlation; ``sigma_alpha``
    and ``sigma_beta`` the sds. Gene level and priors as model 6, the gene
    level non-centred too (ten genes leave a funnel at small gene sds).
    """
    check_choice("covariate", covariate, COVARIATES)
    eta = check_positive_real("eta", eta)
    observations = _check_observations(observations, ("sgrna", "gene", covariate, "logfc"))
    sgrna_idx, sgrnas = _codes(observations, "sgrna")
    _, genes = _codes(observations, "gene")
    gene_of_sgrna = _gene_of_sgrna(observations, sgrnas, genes)
    coords = {
        "gene": genes,
        "sgrna": sgrnas,
        "effect": ["intercept", "slope"],
        "obs": np.arange(len(observations)),
    }
    with pm.Model(coords=coords) as model:
        x = pm.Data("copy_number", observations[covariate].to_numpy(dtype=float), dims="obs")
        sgrna = pm.Data("sgrna_idx", sgrna_idx, dims="obs")
        mu_gamma = pm.Normal("mu_gamma", mu=-1.0, sigma=5.0)
        sigma_gamma = pm.Exponential("sigma_gamma", 1.0)
        gamma = _hierarchical_normal("gamma", mu_gamma, sigma_gamma, "gene", "non_centred")
        mu_delta = pm.Normal("mu_delta", mu=-1.0, sigma=5.0)
        sigma_delta = pm.Exponential("sigma_delta", 1.0)
        delta = _hierarchical_normal("delta", mu_delta, sigma_delta, "gene", "non_centred")
        chol, corr, stds = pm.LKJCholeskyCov(
            "chol", n=2, eta=eta, sd_dist=pm.Exponential.dist(1.0), compute_corr=True
        )
        pm.Deterministic("sigma_alpha", stds[0])
        pm.Deterministic("sigma_beta", stds[1])
        pm.Deterministic("rho", corr[0, 1])
        z = pm.Normal("effects_z", mu=0.0, sigma=1.0, dims=("sgrna", "effect"))
        # mean + L z written out for the 2 x 2 lower-triangular L: the same
        # numbers as a matrix product, but it compiles several times faster.
        alpha = pm.Deterministic("alpha", gamma[gene_of_sgrna] + chol[0, 0] * z[:, 0], dims="sgrna")
        beta = pm.Deterministic(
            "beta",
            delta[gene_of_sgrna] + chol[1, 0] * z[:, 0] + chol[1, 1] * z[:, 1],
            dims="sgrna",
        )
        sigma = pm.Exponential("sigma", 1.0)
        _likelihood(alpha[sgrna] + beta[sgrna] * x, sigma, observations)
    return model


def gene_by_cell_line_model(observations: pd.DataFrame) -> pm.Model:
    r"""Model 7a: one intercept per gene and cell line, one hierarchical prior.

    :math:`\text{logFC} \sim N(\alpha_{g,c}, \sigma)`, :math:`\alpha_{g,c}
    \sim N(\mu_\alpha, \sigma_\alpha)`, :math:`\mu_\alpha \sim N(0, 5)`,
    scales Exponential(1). The model has no gene or cell-line effect as such;
    ``gene_effect`` (each gene's mean over cell lines) and
    ``cell_line_effect`` (each line's mean over genes, minus the grand mean)
    are derived from :math:`\alpha` to compare with the truth.
    """
    observations = _check_observations(observations, ("gene", "cell_line", "logfc"))
    gene_idx, genes = _codes(observations, "gene")
    cell_idx, cell_lines = _codes(observations, "cell_line")
    coords = {"gene": genes, "cell_line": cell_lines, "obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        gene = pm.Data("gene_idx", gene_idx, dims="obs")
        cell = pm.Data("cell_line_idx", cell_idx, dims="obs")
        mu_alpha = pm.Normal("mu_alpha", mu=0.0, sigma=5.0)
        sigma_alpha = pm.Exponential("sigma_alpha", 1.0)
        alpha = pm.Normal("alpha", mu=mu_alpha, sigma=sigma_alpha, dims=("gene", "cell_line"))
        pm.Deterministic("gene_effect", alpha.mean(axis=1), dims="gene")
        pm.Deterministic("cell_line_effect", alpha.mean(axis=0) - alpha.mean(), dims="cell_line")
        sigma = pm.Exponential("sigma", 1.0)
        _likelihood(alpha[gene, cell], sigma, observations)
    return model


def sgrna_by_cell_line_model(observations: pd.DataFrame) -> pm.Model:
    r"""Model 7b: an sgRNA x cell-line intercept around a gene x cell-line mean.

    :math:`\text{logFC}_{sc} \sim N(\alpha_{s,c}, \sigma)`,
    :math:`\alpha_{s,c} \sim N(\gamma_{g[s],c}, \sigma_\alpha)`,
    :math:`\gamma_{g,c} \sim N(\mu_\gamma, \sigma_\gamma)`, :math:`\mu_\gamma
    \sim N(0, 5)`, scales Exponential(1). With one observation per sgRNA and
    cell line, :math:`\alpha_{s,c}` is one parameter per row: its sd and the
    noise sd are only identified together. Built to show that.
    """
    observations = _check_observations(observations, ("sgrna", "gene", "cell_line", "logfc"))
    gene_idx, genes = _codes(observations, "gene")
    cell_idx, cell_lines = _codes(observations, "cell_line")
    coords = {"gene": genes, "cell_line": cell_lines, "obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        gene = pm.Data("gene_idx", gene_idx, dims="obs")
        cell = pm.Data("cell_line_idx", cell_idx, dims="obs")
        mu_gamma = pm.Normal("mu_gamma", mu=0.0, sigma=5.0)
        sigma_gamma = pm.Exponential("sigma_gamma", 1.0)
        gamma = pm.Normal("gamma", mu=mu_gamma, sigma=sigma_gamma, dims=("gene", "cell_line"))
        sigma_alpha = pm.Exponential("sigma_alpha", 1.0)
        alpha = pm.Normal("alpha", mu=gamma[gene, cell], sigma=sigma_alpha, dims="obs")
        sigma = pm.Exponential("sigma", 1.0)
        _likelihood(alpha, sigma, observations)
    return model


def additive_gene_cell_line_model(observations: pd.DataFrame) -> pm.Model:
    r"""Model 7c: a gene intercept plus a cell-line effect, tight priors.

    :math:`\text{logFC} \sim N(\alpha_g + \beta_c, \sigma)`,
    :math:`\alpha_g \sim N(\mu_\alpha, \sigma_\alpha)`, :math:`\beta_c \sim
    N(\mu_\beta, \sigma_\beta)`, :math:`\mu_\alpha \sim N(-1, 1)`,
    :math:`\mu_\beta \sim N(0, 0.2)`, scales Exponential(1): the original's
    fix, where the tight prior on :math:`\mu_\beta` holds the additive split.
    sgRNAs are pooled into their gene.
    """
    observations = _check_observations(observations, ("gene", "cell_line", "logfc"))
    gene_idx, genes = _codes(observations, "gene")
    cell_idx, cell_lines = _codes(observations, "cell_line")
    coords = {"gene": genes, "cell_line": cell_lines, "obs": np.arange(len(observations))}
    with pm.Model(coords=coords) as model:
        gene = pm.Data("gene_idx", gene_idx, dims="obs")
        cell = pm.Data("cell_line_idx", cell_idx, dims="obs")
        mu_alpha = pm.Normal("mu_alpha", mu=-1.0, sigma=1.0)
        sigma_alpha = pm.Exponential("sigma_alpha", 1.0)
        alpha = pm.Normal("alpha", mu=mu_alpha, sigma=sigma_alpha, dims="gene")
        mu_beta = pm.Normal("mu_beta", mu=0.0, sigma=0.2)
        sigma_beta = pm.Exponential("sigma_beta", 1.0)
        beta = pm.Normal("beta", mu=mu_beta, sigma=sigma_beta, dims="cell_line")
        sigma = pm.Exponential("sigma", 1.0)
        _likelihood(alpha[gene] + beta[cell], sigma, observations)
    return model
