"""PyMC model builders, one per experiment.

Each builder takes the tidy observations from :mod:`crispr_models.simulation`
(or real data in the same columns) and returns a ``pm.Model`` with named dims
and coords. The priors are the original series' (see each docstring).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm


def _check_observations(observations: object, columns: tuple[str, ...]) -> pd.DataFrame:
    """Refuse anything but a DataFrame with finite numeric ``rna`` and ``logfc``."""
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
    for column in ("rna", "logfc"):
        if column in columns:
            values = pd.to_numeric(observations[column], errors="coerce").to_numpy()
            if not np.all(np.isfinite(values)):
                raise ValueError(f"observations[{column!r}] must hold finite numbers only")
    return observations


def _gene_codes(observations: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Integer gene index per row and the gene labels, in category order."""
    genes = pd.Categorical(observations["gene"])
    return genes.codes, [str(g) for g in genes.categories]


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
        pm.Normal(
            "logfc",
            mu=alpha + beta * rna,
            sigma=sigma,
            observed=observations["logfc"].to_numpy(dtype=float),
            dims="obs",
        )
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
    gene_idx, genes = _gene_codes(observations)
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

        pm.Normal(
            "logfc",
            mu=alpha[gene] + beta[gene] * rna,
            sigma=sigma,
            observed=observations["logfc"].to_numpy(dtype=float),
            dims="obs",
        )
    return model
