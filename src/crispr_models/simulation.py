"""Simulated CRISPR-screen log fold changes with known true parameters.

One function per experiment. Each takes ``rng`` explicitly (a
``numpy.random.Generator``, or a ``numpy.random.RandomState`` to reproduce the
original series draw for draw) and returns a :class:`SimulatedData`: a tidy
table of observations and the true parameter values that made it.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crispr_models.validation import (
    RandomSource,
    check_positive_int,
    check_positive_real,
    check_real,
    check_rng,
)

#: Column names shared by every simulation that uses RNA expression.
OBSERVATION_COLUMNS = ("gene", "cell_line", "rna", "logfc")


@dataclass(frozen=True)
class SimulatedData:
    """Observations and the truth behind them.

    ``truth`` maps a model parameter's name to its true value: a float for a
    scalar, a ``pandas.Series`` indexed by the parameter's dimension (for
    example ``gene``) for a vector.
    """

    observations: pd.DataFrame
    truth: dict[str, float | pd.Series] = field(default_factory=dict)


def gene_names(num_genes: int) -> list[str]:
    """Gene labels ``gene_A``, ``gene_B``, ... (``gene_AA`` after ``gene_Z``)."""
    check_positive_int("num_genes", num_genes)
    letters = string.ascii_uppercase
    names = []
    for i in range(num_genes):
        label = ""
        i += 1
        while i:  # spreadsheet-style column letters
            i, remainder = divmod(i - 1, 26)
            label = letters[remainder] + label
        names.append(f"gene_{label}")
    return names


def cell_line_names(num_cell_lines: int) -> list[str]:
    """Cell-line labels ``cell_01``, ``cell_02``, ... zero-padded to sort."""
    check_positive_int("num_cell_lines", num_cell_lines)
    width = len(str(num_cell_lines))
    return [f"cell_{i:0{width}d}" for i in range(1, num_cell_lines + 1)]


def _tidy_gene_by_cell_line(
    genes: list[str], cell_lines: list[str], rna: np.ndarray, logfc: np.ndarray
) -> pd.DataFrame:
    """Flatten gene x cell-line matrices into one row per observation, gene-major."""
    return pd.DataFrame(
        {
            "gene": pd.Categorical(np.repeat(genes, len(cell_lines)), categories=genes),
            "cell_line": pd.Categorical(np.tile(cell_lines, len(genes)), categories=cell_lines),
            "rna": rna.ravel(),
            "logfc": logfc.ravel(),
        }
    )


def simulate_single_gene_rna(
    rng: RandomSource,
    *,
    num_cell_lines: int = 20,
    alpha: float = 0.5,
    beta: float = -1.0,
    sigma: float = 0.3,
) -> SimulatedData:
    """Model 1: one gene whose logFC is linear in its RNA expression.

    ``logfc_c = alpha + beta * rna_c + N(0, sigma)`` with ``rna_c ~ N(0, 1)``
    for each cell line ``c``.
    """
    rng = check_rng(rng)
    num_cell_lines = check_positive_int("num_cell_lines", num_cell_lines)
    alpha = check_real("alpha", alpha)
    beta = check_real("beta", beta)
    sigma = check_positive_real("sigma", sigma)

    rna = rng.standard_normal(size=(1, num_cell_lines))
    logfc = alpha + beta * rna + rng.normal(loc=0.0, scale=sigma, size=rna.shape)
    observations = _tidy_gene_by_cell_line(
        gene_names(1), cell_line_names(num_cell_lines), rna, logfc
    )
    return SimulatedData(observations, {"alpha": alpha, "beta": beta, "sigma": sigma})


def simulate_multigene_rna(
    rng: RandomSource,
    *,
    num_genes: int = 5,
    num_cell_lines: int = 30,
    mu_alpha: float = -1.0,
    sigma_alpha: float = 1.0,
    mu_beta: float = -1.0,
    sigma_beta: float = 2.0,
    sigma: float = 0.5,
) -> SimulatedData:
    """Model 2: many genes, each with its own intercept and RNA slope.

    ``alpha_g ~ N(mu_alpha, sigma_alpha)``, ``beta_g ~ N(mu_beta, sigma_beta)``,
    ``logfc_gc = alpha_g + beta_g * rna_gc + N(0, sigma)``, ``rna_gc ~ N(0, 1)``.

    The draws are made in the original notebook's order (intercepts, slopes,
    expression, then noise as a cell-line x gene matrix), so
    ``rng=np.random.RandomState(103)`` with the defaults reproduces the
    original data exactly.
    """
    rng = check_rng(rng)
    num_genes = check_positive_int("num_genes", num_genes)
    num_cell_lines = check_positive_int("num_cell_lines", num_cell_lines)
    mu_alpha = check_real("mu_alpha", mu_alpha)
    sigma_alpha = check_positive_real("sigma_alpha", sigma_alpha)
    mu_beta = check_real("mu_beta", mu_beta)
    sigma_beta = check_positive_real("sigma_beta", sigma_beta)
    sigma = check_positive_real("sigma", sigma)

    alpha = rng.normal(loc=mu_alpha, scale=sigma_alpha, size=num_genes)
    beta = rng.normal(loc=mu_beta, scale=sigma_beta, size=num_genes)
    rna = rng.standard_normal(size=(num_genes, num_cell_lines))
    # The original drew the noise as (cell line x gene) and transposed it.
    noise = rng.normal(loc=0.0, scale=sigma, size=(num_cell_lines, num_genes)).T
    logfc = alpha[:, None] + beta[:, None] * rna + noise

    genes = gene_names(num_genes)
    gene_index = pd.Index(genes, name="gene")
    truth = {
        "mu_alpha": mu_alpha,
        "sigma_alpha": sigma_alpha,
        "mu_beta": mu_beta,
        "sigma_beta": sigma_beta,
        "alpha": pd.Series(alpha, index=gene_index, name="alpha"),
        "beta": pd.Series(beta, index=gene_index, name="beta"),
        "sigma": sigma,
    }
    observations = _tidy_gene_by_cell_line(genes, cell_line_names(num_cell_lines), rna, logfc)
    return SimulatedData(observations, truth)
