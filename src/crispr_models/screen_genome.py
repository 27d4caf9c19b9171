"""The genome-wide fit: the shared parameters from NUTS on a random sample of
genes, then every gene's effect integrated numerically given them.

Given the shared parameters (intercept, copy-number effects, the two sds and
the counts' dispersion) the genes of :func:`~crispr_models.screen_model.read_count_model`
are independent, and each gene's posterior is one-dimensional: its fold
change at its own copy number, with its guides integrated out by the same
quadrature the model samples with. So it is computed on a grid, for all
genes at once, for each of a few posterior draws of the shared parameters,
and the draws are mixed. This is exact given the draws; what it assumes is
that a random sample of genes pins the shared parameters as the whole
genome would (their posterior sds on a sample are small: the chapter shows
them), and it checks itself against NUTS on the sample's genes.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import xarray as xr

from crispr_models.input_checks import check_positive_int
from crispr_models.screen_data import Screen, log_fold_changes
from crispr_models.screen_model import GeneLayout, compile_guide_marginal

#: Grid points per gene: a coarse pass finds where each gene's posterior
#: lies, then each fine pass spans FINE_HALF_WIDTH_SDS of the last pass's
#: sds around its mean; the last gives the moments and the tail probability.
COARSE_POINTS, FINE_POINTS, FINE_PASSES = 25, 33, 2
#: The coarse grid spans the gene's naive median fold change and its prior
#: mean, this much (log2 units) beyond each; the fine grid's half-width is
#: this many coarse sds.
COARSE_MARGIN, FINE_HALF_WIDTH_SDS = 3.0, 6.0

SHARED_PARAMETERS = ("intercept", "sigma_gene", "sigma_guide", "excess_cv")


def shared_parameter_draws(posterior: xr.DataTree | xr.Dataset, num_draws: int) -> list[dict]:
    """``num_draws`` evenly spaced posterior draws of the shared parameters
    (and the copy-number effect at every level, when the model has one)."""
    num_draws = check_positive_int("num_draws", num_draws)
    if isinstance(posterior, xr.DataTree):
        posterior = posterior.to_dataset()
    stacked = posterior.stack(sample=("chain", "draw"))
    chosen = np.linspace(0, stacked.sizes["sample"] - 1, min(num_draws, stacked.sizes["sample"]))
    names = [*SHARED_PARAMETERS, "copy_number_effect"]
    draws = []
    for i in chosen.astype(int):
        draw = {n: stacked[n].isel(sample=i).to_numpy() for n in names if n in stacked}
        draws.append({n: (float(v) if v.ndim == 0 else v) for n, v in draw.items()})
    return draws


def integrate_gene_effects(screen: Screen, draws: list[dict], threshold: float) -> pd.DataFrame:
    """Every gene's effect (log2 fold change at two copies) given each of
    ``draws`` (:func:`shared_parameter_draws`), mixed over the draws: mean,
    sd, probability below ``threshold``, as
    :func:`~crispr_models.screen_analysis.gene_effects` gives them from NUTS.
    ``attrs`` hold the seconds taken and the largest posterior density left
    at a fine grid's edge (relative to its mode; small means the grid held
    the posterior)."""
    if not draws:
        raise ValueError("draws is empty: give at least one draw of the shared parameters")
    start = time.perf_counter()
    layout = GeneLayout.of(screen)
    marginal = compile_guide_marginal(screen)
    naive = (
        pd.Series(log_fold_changes(screen).to_numpy())
        .groupby(layout.gene_index)
        .median()
        .to_numpy()
    )
    results = [_given_shared(layout, marginal, naive, draw, threshold) for draw in draws]
    means = np.stack([r[0] for r in results])
    variances = np.stack([r[1] for r in results])
    below = np.stack([r[2] for r in results])
    table = pd.DataFrame(
        {
            # the law of total variance over the draws
            "mean": means.mean(axis=0),
            "sd": np.sqrt(variances.mean(axis=0) + means.var(axis=0)),
            "prob_below": below.mean(axis=0),
        },
        index=pd.Index(layout.genes, name="gene"),
    )
    table.attrs["seconds"] = time.perf_counter() - start
    table.attrs["draws"] = len(draws)
    table.attrs["max_edge_density"] = float(max(r[3] for r in results))
    return table


def _given_shared(layout: GeneLayout, marginal, naive, draw, threshold):
    """Per gene, given one draw: mean and variance of the effect at two
    copies, probability below ``threshold``, and the fine grids' edge density."""
    effect = draw.get("copy_number_effect")
    gene_shift = np.asarray(layout.gene_shift(effect), dtype=float) * np.ones(len(layout.genes))
    prior_mean = draw["intercept"] + gene_shift
    # a gene's posterior lies between its data and its prior
    low = np.minimum(naive, prior_mean) - COARSE_MARGIN
    high = np.maximum(naive, prior_mean) + COARSE_MARGIN
    grid = low[:, None] + (high - low)[:, None] * np.linspace(0.0, 1.0, COARSE_POINTS)[None, :]
    density = _log_posterior(layout, marginal, grid, effect, prior_mean, draw)
    for _ in range(FINE_PASSES):
        centre, sd = _placement(grid, density)
        offsets = FINE_HALF_WIDTH_SDS * np.linspace(-1.0, 1.0, FINE_POINTS)
        grid = centre[:, None] + sd[:, None] * offsets[None, :]
        density = _log_posterior(layout, marginal, grid, effect, prior_mean, draw)
    mean, variance = _moments(grid, density)
    below = _probability_below(grid, density, threshold + gene_shift)
    relative = np.exp(density - density.max(axis=1, keepdims=True))
    edge = float(np.max(np.maximum(relative[:, 0], relative[:, -1])))
    return mean - gene_shift, variance, below, edge


def _log_posterior(layout, marginal, grid, effect, prior_mean, draw):
    """Log posterior density (unnormalised) of each gene's fold change at
    its own level, at each point of its row of ``grid`` (genes x points)."""
    alpha = 1.0 / draw["excess_cv"] ** 2
    density = -0.5 * ((grid - prior_mean[:, None]) / draw["sigma_gene"]) ** 2
    for j in range(grid.shape[1]):
        guide_means = layout.guide_means(grid[:, j], effect)
        per_guide, _, _ = marginal(guide_means, draw["sigma_guide"], alpha)
        density[:, j] += np.bincount(layout.gene_index, per_guide, minlength=len(grid))
    return density


def _placement(grid, log_density):
    """Where the next grid goes: each gene's mode and the larger of its
    posterior sd and the sd the log density's curvature at the mode gives
    (the curvature resolves a posterior narrower than the grid's cells;
    these posteriors are log-concave, so the mode is one)."""
    rows = np.arange(len(grid))
    peak = np.clip(log_density.argmax(axis=1), 1, grid.shape[1] - 2)
    step = grid[rows, peak + 1] - grid[rows, peak]
    left, middle, right = (log_density[rows, peak + k] for k in (-1, 0, 1))
    bend = np.maximum(2.0 * middle - left - right, 1e-12)
    mode = grid[rows, peak] + 0.5 * step * (right - left) / bend
    curvature_sd = step / np.sqrt(bend)
    return mode, np.maximum(np.sqrt(_moments(grid, log_density)[1]), curvature_sd)


def _moments(grid, log_density):
    weights = np.exp(log_density - log_density.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    mean = np.sum(weights * grid, axis=1)
    return mean, np.sum(weights * (grid - mean[:, None]) ** 2, axis=1)


def _probability_below(grid, log_density, limit):
    """P(value < limit) per gene, from the trapezoid rule on each gene's grid."""
    density = np.exp(log_density - log_density.max(axis=1, keepdims=True))
    steps = np.diff(grid, axis=1)
    cells = 0.5 * (density[:, 1:] + density[:, :-1]) * steps
    cumulative = np.concatenate([np.zeros((len(grid), 1)), np.cumsum(cells, axis=1)], axis=1)
    cumulative /= cumulative[:, -1:]
    return np.array([np.interp(x, g, c) for x, g, c in zip(limit, grid, cumulative, strict=True)])
