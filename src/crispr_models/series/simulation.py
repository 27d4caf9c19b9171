"""Simulated CRISPR-screen log fold changes with known true parameters.

One function per experiment. Each takes ``rng`` explicitly (a
``numpy.random.Generator``, or a ``numpy.random.RandomState`` to reproduce the
original series draw for draw) and returns a :class:`SimulatedData`: a tidy
table of observations and the true parameter values that made it.
"""

from __future__ import annotations

import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crispr_models.core.input_checks import (
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

    def __iter__(self) -> Iterator[pd.DataFrame | dict[str, float | pd.Series]]:
        """``data, truth = simulate_...(rng)``."""
        return iter((self.observations, self.truth))


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
    genes: list[str], cell_lines: list[str], rna: np.ndarray
) -> pd.DataFrame:
    """Flatten a gene x cell-line matrix of expression into one row per
    observation, gene-major (the caller adds ``logfc``)."""
    return pd.DataFrame(
        {
            "gene": pd.Categorical(np.repeat(genes, len(cell_lines)), categories=genes),
            "cell_line": pd.Categorical(np.tile(cell_lines, len(genes)), categories=cell_lines),
            "rna": rna.ravel(),
        }
    )


def _series(values: np.ndarray, labels: list[str], dim: str, name: str) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index(labels, name=dim), name=name)


@dataclass(frozen=True)
class LinearPredictor:
    """How each row of a design gets its mean logFC from named effects.

    The mean of a row is the ``intercept`` of its group, plus ``slope`` (of
    its group) times the row's ``covariate``, plus the ``offset`` of another
    group (a cell line's effect). Each effect is a scalar or a
    ``pandas.Series`` indexed by the labels of one design column, named by
    the index (``gene``, ``sgrna``, ``cell_line``), as the simulations'
    truths are. The simulations compute their means here, by label; the
    models index their effects by integer codes. Simulation-based
    calibration simulates through this and fits the model, so each checks
    the other.
    """

    intercept: str
    slope: str | None = None
    covariate: str | None = None
    offset: str | None = None

    def __post_init__(self) -> None:
        if (self.slope is None) != (self.covariate is None):
            raise ValueError("slope and covariate go together: give both or neither")

    @property
    def effects(self) -> tuple[str, ...]:
        """The effects the mean reads."""
        return tuple(n for n in (self.intercept, self.slope, self.offset) if n is not None)

    def mean(self, design: pd.DataFrame, effects: Mapping[str, object]) -> np.ndarray:
        """Each row's mean logFC (a float array as long as ``design``)."""
        missing = [name for name in self.effects if name not in effects]
        if missing:
            raise ValueError(f"effects lack {missing}; this predictor reads {list(self.effects)}")
        mean = _per_row(design, effects[self.intercept], self.intercept)
        if self.slope is not None:
            covariate = design[self.covariate].to_numpy(dtype=float)
            mean = mean + _per_row(design, effects[self.slope], self.slope) * covariate
        if self.offset is not None:
            mean = mean + _per_row(design, effects[self.offset], self.offset)
        return mean


def _per_row(design: pd.DataFrame, effect: object, name: str) -> np.ndarray:
    """An effect's value for each row: a scalar everywhere, a Series by the
    label in the design column its index names."""
    if not isinstance(effect, pd.Series):
        return np.full(len(design), float(effect))
    column = effect.index.name
    if column not in design.columns:
        raise ValueError(
            f"effect {name!r} is indexed by {column!r}, not a column of the design "
            f"({list(design.columns)})"
        )
    values = effect.reindex(design[column].astype(str)).to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError(f"effect {name!r} has no value for some {column} labels of the design")
    return values


def simulate_logfc(
    design: pd.DataFrame,
    predictor: LinearPredictor,
    effects: Mapping[str, object],
    sigma: float,
    rng: RandomSource,
) -> np.ndarray:
    """logFC for each row of ``design``: the predictor's mean plus N(0, sigma)."""
    rng = check_rng(rng)
    sigma = check_positive_real("sigma", sigma)
    return predictor.mean(design, effects) + rng.normal(0.0, sigma, len(design))


#: The mean of each simulation that simulation-based calibration uses.
MULTIGENE_RNA = LinearPredictor("alpha", slope="beta", covariate="rna")
SGRNA_CELL_LINE = LinearPredictor("alpha", offset="beta")
SGRNA_COPY_NUMBER = LinearPredictor("alpha", slope="beta", covariate="cna")
SGRNA_DIPLOID_COPY_NUMBER = LinearPredictor("alpha", slope="beta", covariate="cna_diploid")


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
    observations = _tidy_gene_by_cell_line(gene_names(1), cell_line_names(num_cell_lines), rna)
    observations["logfc"] = logfc.ravel()
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

    genes = gene_names(num_genes)
    truth = {
        "mu_alpha": mu_alpha,
        "sigma_alpha": sigma_alpha,
        "mu_beta": mu_beta,
        "sigma_beta": sigma_beta,
        "alpha": _series(alpha, genes, "gene", "alpha"),
        "beta": _series(beta, genes, "gene", "beta"),
        "sigma": sigma,
    }
    observations = _tidy_gene_by_cell_line(genes, cell_line_names(num_cell_lines), rna)
    observations["logfc"] = MULTIGENE_RNA.mean(observations, truth) + noise.ravel()
    return SimulatedData(observations, truth)


def sgrna_names(num_sgrnas: int) -> list[str]:
    """sgRNA labels ``sgRNA_01``, ``sgRNA_02``, ... zero-padded to sort."""
    check_positive_int("num_sgrnas", num_sgrnas)
    width = max(2, len(str(num_sgrnas)))
    return [f"sgRNA_{i:0{width}d}" for i in range(1, num_sgrnas + 1)]


def _check_sgrnas_per_gene(sgrnas_per_gene: object) -> list[int]:
    """A non-empty sequence of positive integers: how many sgRNAs target each gene."""
    if isinstance(sgrnas_per_gene, str | bytes) or not hasattr(sgrnas_per_gene, "__len__"):
        raise TypeError(
            "sgrnas_per_gene must be a sequence of positive integers (sgRNAs per gene), "
            f"got {sgrnas_per_gene!r}"
        )
    if len(sgrnas_per_gene) == 0:
        raise ValueError("sgrnas_per_gene must name at least one gene, got an empty sequence")
    return [check_positive_int("sgrnas_per_gene[i]", n) for n in sgrnas_per_gene]


def _sgrna_layout(sgrnas_per_gene: list[int]) -> tuple[list[str], list[str], np.ndarray]:
    """Gene labels, sgRNA labels and each sgRNA's gene index."""
    genes = gene_names(len(sgrnas_per_gene))
    sgrnas = sgrna_names(sum(sgrnas_per_gene))
    gene_of_sgrna = np.repeat(np.arange(len(genes)), sgrnas_per_gene)
    return genes, sgrnas, gene_of_sgrna


def _tidy_sgrna_by_cell_line(
    genes: list[str], sgrnas: list[str], gene_of_sgrna: np.ndarray, cell_lines: list[str]
) -> pd.DataFrame:
    """One row per sgRNA x cell line, sgRNA-major (the original series' order)."""
    num_cell_lines = len(cell_lines)
    return pd.DataFrame(
        {
            "sgrna": pd.Categorical(np.repeat(sgrnas, num_cell_lines), categories=sgrnas),
            "gene": pd.Categorical(
                np.repeat(np.asarray(genes)[gene_of_sgrna], num_cell_lines), categories=genes
            ),
            "cell_line": pd.Categorical(np.tile(cell_lines, len(sgrnas)), categories=cell_lines),
        }
    )


def _tidy_replicates(
    genes: list[str], cell_lines: list[str], num_replicates: int
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One row per gene x cell line x replicate, gene-major, and each row's
    gene and cell-line index (to pick from gene x cell-line arrays)."""
    shape = (len(genes), len(cell_lines), num_replicates)
    gene_i, cell_i, replicate_i = (a.ravel() for a in np.indices(shape))
    frame = pd.DataFrame(
        {
            "gene": pd.Categorical(np.asarray(genes)[gene_i], categories=genes),
            "cell_line": pd.Categorical(np.asarray(cell_lines)[cell_i], categories=cell_lines),
            "replicate": replicate_i + 1,
        }
    )
    return frame, gene_i, cell_i


def simulate_gene_level_predictor(
    rng: RandomSource,
    *,
    num_genes: int = 10,
    num_cell_lines: int = 20,
    num_replicates: int = 3,
    mu_gamma: float = -1.0,
    delta: float = -0.5,
    sigma_gamma: float = 0.4,
    mu_beta: float = 0.0,
    sigma_beta: float = 1.0,
    sigma: float = 0.3,
) -> SimulatedData:
    """Model 3: a gene-level predictor in the gene-level regression.

    Each gene has one property, its typical expression across cell lines
    ``x_g ~ N(0, 1)`` (column ``gene_expression``, constant within a gene),
    which shifts the gene's intercept; each cell line has the gene's
    within-gene standardised expression ``rna ~ N(0, 1)``, which enters the
    observation level with a gene-specific slope::

        alpha_g = mu_gamma + delta * x_g + N(0, sigma_gamma)
        beta_g ~ N(mu_beta, sigma_beta)
        logfc_gcr = alpha_g + beta_g * rna_gc + N(0, sigma)

    ``num_replicates`` logFC values are drawn per gene and cell line.
    """
    rng = check_rng(rng)
    num_genes = check_positive_int("num_genes", num_genes)
    num_cell_lines = check_positive_int("num_cell_lines", num_cell_lines)
    num_replicates = check_positive_int("num_replicates", num_replicates)
    mu_gamma = check_real("mu_gamma", mu_gamma)
    delta = check_real("delta", delta)
    sigma_gamma = check_positive_real("sigma_gamma", sigma_gamma)
    mu_beta = check_real("mu_beta", mu_beta)
    sigma_beta = check_positive_real("sigma_beta", sigma_beta)
    sigma = check_positive_real("sigma", sigma)

    gene_expression = rng.standard_normal(num_genes)
    alpha = mu_gamma + delta * gene_expression + rng.normal(0.0, sigma_gamma, num_genes)
    beta = rng.normal(mu_beta, sigma_beta, num_genes)
    rna = rng.standard_normal((num_genes, num_cell_lines))
    mean = alpha[:, None, None] + beta[:, None, None] * rna[:, :, None]
    logfc = mean + rng.normal(0.0, sigma, (num_genes, num_cell_lines, num_replicates))

    genes, cell_lines = gene_names(num_genes), cell_line_names(num_cell_lines)
    observations, gene_i, cell_i = _tidy_replicates(genes, cell_lines, num_replicates)
    observations["gene_expression"] = gene_expression[gene_i]
    observations["rna"] = rna[gene_i, cell_i]
    observations["logfc"] = logfc.ravel()
    truth = {
        "mu_gamma": mu_gamma,
        "delta": delta,
        "sigma_gamma": sigma_gamma,
        "alpha": _series(alpha, genes, "gene", "alpha"),
        "mu_beta": mu_beta,
        "sigma_beta": sigma_beta,
        "beta": _series(beta, genes, "gene", "beta"),
        "sigma": sigma,
    }
    return SimulatedData(observations, truth)


def simulate_gene_cell_line_rna(
    rng: RandomSource,
    *,
    num_genes: int = 5,
    num_cell_lines: int = 20,
    num_replicates: int = 3,
    mu_alpha: float = -1.0,
    sigma_alpha: float = 1.0,
    mu_gamma: float = 0.0,
    sigma_gamma: float = 3.0,
    mu_beta: float = -1.0,
    sigma_beta: float = 2.0,
    sigma: float = 0.3,
) -> SimulatedData:
    """Model 4: a gene intercept, a cell-line intercept and a gene RNA slope.

    ``alpha_g ~ N(mu_alpha, sigma_alpha)``, ``gamma_c ~ N(mu_gamma, sigma_gamma)``,
    ``beta_g ~ N(mu_beta, sigma_beta)``, ``rna_gc ~ N(0, 1)`` and
    ``logfc_gcr = alpha_g + gamma_c + beta_g * rna_gc + N(0, sigma)`` for
    ``num_replicates`` replicates ``r`` of each gene and cell line.
    """
    rng = check_rng(rng)
    num_genes = check_positive_int("num_genes", num_genes)
    num_cell_lines = check_positive_int("num_cell_lines", num_cell_lines)
    num_replicates = check_positive_int("num_replicates", num_replicates)
    mu_alpha = check_real("mu_alpha", mu_alpha)
    sigma_alpha = check_positive_real("sigma_alpha", sigma_alpha)
    mu_gamma = check_real("mu_gamma", mu_gamma)
    sigma_gamma = check_positive_real("sigma_gamma", sigma_gamma)
    mu_beta = check_real("mu_beta", mu_beta)
    sigma_beta = check_positive_real("sigma_beta", sigma_beta)
    sigma = check_positive_real("sigma", sigma)

    alpha = rng.normal(mu_alpha, sigma_alpha, num_genes)
    gamma = rng.normal(mu_gamma, sigma_gamma, num_cell_lines)
    beta = rng.normal(mu_beta, sigma_beta, num_genes)
    rna = rng.standard_normal((num_genes, num_cell_lines))
    mean = alpha[:, None] + gamma[None, :] + beta[:, None] * rna
    logfc = mean[:, :, None] + rng.normal(0.0, sigma, (num_genes, num_cell_lines, num_replicates))

    genes, cell_lines = gene_names(num_genes), cell_line_names(num_cell_lines)
    observations, gene_i, cell_i = _tidy_replicates(genes, cell_lines, num_replicates)
    observations["rna"] = rna[gene_i, cell_i]
    observations["logfc"] = logfc.ravel()
    truth = {
        "mu_alpha": mu_alpha,
        "sigma_alpha": sigma_alpha,
        "alpha": _series(alpha, genes, "gene", "alpha"),
        "mu_gamma": mu_gamma,
        "sigma_gamma": sigma_gamma,
        "gamma": _series(gamma, cell_lines, "cell_line", "gamma"),
        "mu_beta": mu_beta,
        "sigma_beta": sigma_beta,
        "beta": _series(beta, genes, "gene", "beta"),
        "sigma": sigma,
    }
    return SimulatedData(observations, truth)


def simulate_sgrna_cell_line(
    rng: RandomSource,
    *,
    sgrnas_per_gene: tuple[int, ...] = (1, 2, 3, 4, 5),
    num_cell_lines: int = 20,
    mu_gamma: float = -1.0,
    sigma_gamma: float = 1.0,
    sigma_alpha: float = 0.1,
    mu_beta: float = 0.0,
    sigma_beta: float = 1.0,
    sigma: float = 0.05,
    noise_df: float | None = None,
) -> SimulatedData:
    """Models 5 and 7: sgRNAs nested in genes, plus a cell-line effect.

    ``gamma_g ~ N(mu_gamma, sigma_gamma)`` per gene, ``alpha_s ~ N(gamma_g[s],
    sigma_alpha)`` per sgRNA, ``beta_c ~ N(mu_beta, sigma_beta)`` per cell line
    and ``logfc_sc = alpha_s + beta_c + N(0, sigma)``, one value per sgRNA and
    cell line. The defaults are model 5's; model 7 uses ten genes with 1 to
    10 sgRNAs. ``noise_df`` swaps the normal noise for ``sigma`` times a
    Student-t with that many degrees of freedom: heavy tails (outlying guides
    or samples) that the series' normal likelihood does not expect.
    """
    rng = check_rng(rng)
    per_gene = _check_sgrnas_per_gene(sgrnas_per_gene)
    num_cell_lines = check_positive_int("num_cell_lines", num_cell_lines)
    mu_gamma = check_real("mu_gamma", mu_gamma)
    sigma_gamma = check_positive_real("sigma_gamma", sigma_gamma)
    sigma_alpha = check_positive_real("sigma_alpha", sigma_alpha)
    mu_beta = check_real("mu_beta", mu_beta)
    sigma_beta = check_positive_real("sigma_beta", sigma_beta)
    sigma = check_positive_real("sigma", sigma)
    if noise_df is not None:
        noise_df = check_positive_real("noise_df", noise_df)

    genes, sgrnas, gene_of_sgrna = _sgrna_layout(per_gene)
    cell_lines = cell_line_names(num_cell_lines)
    gamma = rng.normal(mu_gamma, sigma_gamma, len(genes))
    alpha = rng.normal(gamma[gene_of_sgrna], sigma_alpha)
    beta = rng.normal(mu_beta, sigma_beta, num_cell_lines)
    shape = (len(sgrnas), num_cell_lines)
    noise = (
        rng.normal(0.0, sigma, shape)
        if noise_df is None
        else sigma * rng.standard_t(noise_df, shape)
    )

    observations = _tidy_sgrna_by_cell_line(genes, sgrnas, gene_of_sgrna, cell_lines)
    truth = {
        "mu_gamma": mu_gamma,
        "sigma_gamma": sigma_gamma,
        "gamma": _series(gamma, genes, "gene", "gamma"),
        "sigma_alpha": sigma_alpha,
        "alpha": _series(alpha, sgrnas, "sgrna", "alpha"),
        "mu_beta": mu_beta,
        "sigma_beta": sigma_beta,
        "beta": _series(beta, cell_lines, "cell_line", "beta"),
        "sigma": sigma,
        **({} if noise_df is None else {"noise_df": noise_df}),
    }
    observations["logfc"] = SGRNA_CELL_LINE.mean(observations, truth) + noise.ravel()
    return SimulatedData(observations, truth)


#: Model 6's copy-number Poisson rate per gene; ``None`` is a gene held at two
#: copies (diploid), as the original's third gene.
M6_COPY_NUMBER_RATES = (1.0, 0.8, None, 1.5, 2.0)
DIPLOID = 2.0


def _check_copy_number_rates(rates: object, num_genes: int) -> list[float | None]:
    if isinstance(rates, str | bytes) or not hasattr(rates, "__len__"):
        raise TypeError(
            "copy_number_rates must be a sequence with one Poisson rate (> 0) or None "
            f"(diploid) per gene, got {rates!r}"
        )
    if len(rates) != num_genes:
        raise ValueError(
            f"copy_number_rates needs one entry per gene ({num_genes}), got {len(rates)}"
        )
    return [None if r is None else check_positive_real("copy_number_rates[i]", r) for r in rates]


def simulate_sgrna_copy_number(
    rng: RandomSource,
    *,
    sgrnas_per_gene: tuple[int, ...] = (1, 2, 3, 4, 5),
    num_cell_lines: int = 20,
    copy_number_rates: tuple[float | None, ...] = M6_COPY_NUMBER_RATES,
    mu_gamma: float = -0.5,
    sigma_gamma: float = 0.5,
    sigma_alpha: float = 0.2,
    mu_delta: float = -1.0,
    sigma_delta: float = 1.0,
    sigma_beta: float = 0.2,
    rho: float = 0.0,
    sigma: float = 0.3,
) -> SimulatedData:
    """Model 6: sgRNA intercepts and copy-number slopes, nested in genes.

    ``gamma_g ~ N(mu_gamma, sigma_gamma)`` and ``delta_g ~ N(mu_delta,
    sigma_delta)`` per gene; per sgRNA ``(alpha_s, beta_s)`` is bivariate
    normal around ``(gamma_g, delta_g)`` with sds ``sigma_alpha``,
    ``sigma_beta`` and correlation ``rho`` (0 in the original); per row
    ``cna = max(Poisson(rate_g) + N(0, 0.1), 0)`` (2 + noise where the rate is
    ``None``) and ``logfc = alpha_s + beta_s * cna + N(0, sigma)``.

    The draws follow the original notebook's order, so
    ``rng=np.random.RandomState(103)`` with the defaults reproduces its data
    exactly. Like the original, each row draws its own copy number, so two
    sgRNAs of a gene see different copy numbers in the same cell line.
    ``cna_z`` is the copy number z-scored within each gene (population sd),
    the covariate the original model was fitted on; ``cna_diploid`` is the
    copy number minus 2, zero at the diploid state (:func:`diploid_truth`
    gives the truth on that scale).
    """
    rng = check_rng(rng)
    per_gene = _check_sgrnas_per_gene(sgrnas_per_gene)
    num_cell_lines = check_positive_int("num_cell_lines", num_cell_lines)
    rates = _check_copy_number_rates(copy_number_rates, len(per_gene))
    mu_gamma = check_real("mu_gamma", mu_gamma)
    sigma_gamma = check_positive_real("sigma_gamma", sigma_gamma)
    sigma_alpha = check_positive_real("sigma_alpha", sigma_alpha)
    mu_delta = check_real("mu_delta", mu_delta)
    sigma_delta = check_positive_real("sigma_delta", sigma_delta)
    sigma_beta = check_positive_real("sigma_beta", sigma_beta)
    rho = check_real("rho", rho)
    if not -1 < rho < 1:
        raise ValueError(f"rho must lie strictly between -1 and 1, got {rho}")
    sigma = check_positive_real("sigma", sigma)

    genes, sgrnas, gene_of_sgrna = _sgrna_layout(per_gene)
    cell_lines = cell_line_names(num_cell_lines)
    gamma = rng.normal(mu_gamma, sigma_gamma, len(genes))
    delta = rng.normal(mu_delta, sigma_delta, len(genes))
    # The original drew alpha_s, beta_s alternately, sgRNA by sgRNA: one
    # standard normal pair per sgRNA, correlated by rho (none at rho = 0).
    z = rng.standard_normal((len(sgrnas), 2))
    alpha = gamma[gene_of_sgrna] + sigma_alpha * z[:, 0]
    beta = delta[gene_of_sgrna] + sigma_beta * (rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1])

    observations = _tidy_sgrna_by_cell_line(genes, sgrnas, gene_of_sgrna, cell_lines)
    row_gene = observations["gene"].cat.codes.to_numpy()
    cna = np.empty(len(observations))
    for i, gene in enumerate(row_gene):  # row by row, to keep the original's draw order
        copies = DIPLOID if rates[gene] is None else rng.poisson(rates[gene])
        cna[i] = max(copies + rng.normal(0.0, 0.1), 0.0)
    observations["cna"] = cna
    observations["cna_diploid"] = cna - DIPLOID
    by_gene = observations.groupby("gene", observed=True)["cna"]
    observations["cna_z"] = (cna - by_gene.transform("mean")) / by_gene.transform(
        lambda x: x.std(ddof=0)
    )
    truth = {
        "mu_gamma": mu_gamma,
        "sigma_gamma": sigma_gamma,
        "gamma": _series(gamma, genes, "gene", "gamma"),
        "mu_delta": mu_delta,
        "sigma_delta": sigma_delta,
        "delta": _series(delta, genes, "gene", "delta"),
        "sigma_alpha": sigma_alpha,
        "alpha": _series(alpha, sgrnas, "sgrna", "alpha"),
        "sigma_beta": sigma_beta,
        "beta": _series(beta, sgrnas, "sgrna", "beta"),
        "rho": rho,
        "sigma": sigma,
    }
    observations["logfc"] = rng.normal(SGRNA_COPY_NUMBER.mean(observations, truth), sigma)
    return SimulatedData(observations, truth)


def zero_sum_truth(
    truth: dict[str, float | pd.Series], effect: str, absorbed: tuple[str, ...]
) -> dict[str, float | pd.Series]:
    """The truth as a model with zero-sum ``effect`` can see it.

    With ``effect`` constrained to sum to zero, its mean moves into the
    intercepts: ``effect`` is centred and each name in ``absorbed`` gains the
    mean. ``mu_<effect>`` is dropped (the constraint fixes it at zero).
    """
    if effect not in truth or not isinstance(truth[effect], pd.Series):
        raise ValueError(f"effect must name a vector in truth ({sorted(truth)}), got {effect!r}")
    unknown = [name for name in absorbed if name not in truth]
    if unknown:
        raise ValueError(f"absorbed names {unknown} are not in truth ({sorted(truth)})")
    mean = float(truth[effect].mean())
    moved = {name: truth[name] + mean for name in absorbed}
    return {
        name: moved.get(name, truth[effect] - mean if name == effect else value)
        for name, value in truth.items()
        if name != f"mu_{effect}"
    }


def z_scored_truth(
    truth: dict[str, float | pd.Series], observations: pd.DataFrame
) -> dict[str, float | pd.Series]:
    """Model 6's truth on the scale of ``cna_z``, the covariate the original fitted.

    With ``cna = m_g + s_g * cna_z`` (``m_g``, ``s_g`` the gene's copy-number
    mean and sd), ``alpha_s + beta_s * cna = (alpha_s + beta_s m_g) + (beta_s
    s_g) cna_z``: a fit on ``cna_z`` estimates those intercepts and slopes,
    and the gene-level means ``gamma_g + delta_g m_g`` and ``delta_g s_g``.
    The hyper-parameters have no exact counterpart and are left out.
    """
    by_gene = observations.groupby("gene", observed=True)["cna"]
    mean, sd = by_gene.mean(), by_gene.std(ddof=0)
    gene_of_sgrna = observations.groupby("sgrna", observed=True)["gene"].first().astype(str)
    sgrna_mean = mean.reindex(gene_of_sgrna).to_numpy()
    sgrna_sd = sd.reindex(gene_of_sgrna).to_numpy()
    gamma, delta = truth["gamma"], truth["delta"]
    alpha, beta = truth["alpha"], truth["beta"]
    return {
        "gamma": gamma + delta * mean.reindex(gamma.index).to_numpy(),
        "delta": delta * sd.reindex(delta.index).to_numpy(),
        "alpha": alpha + beta * sgrna_mean,
        "beta": beta * sgrna_sd,
        "sigma": truth["sigma"],
    }


def diploid_truth(truth: dict[str, float | pd.Series]) -> dict[str, float | pd.Series]:
    """Model 6's truth with the copy number measured from the diploid state.

    With ``cna = 2 + cna_diploid``, ``alpha_s + beta_s cna = (alpha_s + 2
    beta_s) + beta_s cna_diploid``: the intercepts become the effects at two
    copies (``gamma_g + 2 delta_g`` for a gene, ``mu_gamma + 2 mu_delta`` on
    average) and the slopes are unchanged. The intercepts' sds become those
    of the sums, ``sqrt(sigma_gamma^2 + 4 sigma_delta^2)`` for the genes and
    ``sqrt(sigma_alpha^2 + 4 sigma_beta^2 + 4 rho sigma_alpha sigma_beta)``
    for the sgRNAs around their gene; at two copies an sgRNA's intercept and
    slope deviations are correlated even where they were not at zero.
    """
    shift = DIPLOID
    sigma_alpha, sigma_beta = truth["sigma_alpha"], truth["sigma_beta"]
    rho = truth.get("rho", 0.0)
    moved = {
        "mu_gamma": truth["mu_gamma"] + shift * truth["mu_delta"],
        "sigma_gamma": float(np.hypot(truth["sigma_gamma"], shift * truth["sigma_delta"])),
        "gamma": truth["gamma"] + shift * truth["delta"],
        "sigma_alpha": float(
            np.sqrt(
                sigma_alpha**2
                + (shift * sigma_beta) ** 2
                + 2 * shift * rho * sigma_alpha * sigma_beta
            )
        ),
        "alpha": truth["alpha"] + shift * truth["beta"],
    }
    return {name: moved.get(name, value) for name, value in truth.items()}


def global_intercept_truth(truth: dict[str, float | pd.Series]) -> dict[str, float | pd.Series]:
    """Model 6's truth as a model with a global intercept and zero-sum genes sees it.

    ``alpha_global`` is the mean of the simulated gene intercepts; the gene
    and sgRNA intercepts are measured from it; ``mu_gamma`` has no
    counterpart and is dropped.
    """
    mean = float(truth["gamma"].mean())
    moved = {
        "alpha_global": mean,
        "gamma": truth["gamma"] - mean,
        "alpha": truth["alpha"] - mean,
    }
    rest = {k: v for k, v in truth.items() if k not in ("mu_gamma", *moved)}
    return {**moved, **rest}
