"""Grouped K-fold cross-validation: how well a model predicts a new cell line.

PSIS-LOO leaves out one row, so it answers "how well does the model predict
another measurement of a cell line it has seen". A screen is usually asked
about cell lines it has not seen. Here whole cell lines are left out: the
cell lines are split into K folds, the model is refitted without each fold,
and the held-out cell lines' logFC are scored by their posterior predictive
density, the new cell line's effects integrated out.

For the models here that integral is exact. Given one posterior draw, the
rows of a held-out cell line are normal around a mean the fit knows, plus
new effects shared by blocks of rows (one effect for the whole cell line in
the hierarchical model 7; one per gene in 7a), so each block of ``m`` rows
is multivariate normal with covariance ``sigma^2 I + tau^2 11'``
(:func:`block_normal_logpdf`). A cell line's log predictive density is the
log of the mean over draws of the product over its blocks; the elpd is
their sum over cell lines, with a standard error from their spread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr
from scipy.special import logsumexp

from crispr_models.checks.diagnostics import convergence_report
from crispr_models.core.fitting import sample_posterior
from crispr_models.core.input_checks import RandomSource, check_positive_int, check_rng
from crispr_models.core.settings import SamplerSettings


def block_normal_logpdf(
    residuals: np.ndarray, blocks: np.ndarray, sigma: np.ndarray, tau: np.ndarray
) -> np.ndarray:
    """Log density, per draw, of residuals whose blocks share a N(0, tau) effect.

    ``residuals`` is draws x rows, ``blocks`` one integer label per row,
    ``sigma`` and ``tau`` one value per draw. Within a block of ``m`` rows the
    covariance is ``sigma^2 I + tau^2 11'``: its inverse and determinant are
    closed-form (Sherman-Morrison), so no matrix is built.
    """
    residuals = np.atleast_2d(residuals)
    sigma2 = np.asarray(sigma, dtype=float) ** 2
    tau2 = np.asarray(tau, dtype=float) ** 2
    codes = pd.factorize(np.asarray(blocks))[0]
    one_hot = np.eye(codes.max() + 1)[codes]  # rows x blocks
    sizes = one_hot.sum(axis=0)
    sums = residuals @ one_hot  # draws x blocks
    shared = sigma2[:, None] + sizes[None, :] * tau2[:, None]
    rows, num_blocks = residuals.shape[1], len(sizes)
    explained = (tau2[:, None] * sums**2 / shared).sum(axis=1)
    quadratic = ((residuals**2).sum(axis=1) - explained) / sigma2
    log_det = (rows - num_blocks) * np.log(sigma2) + np.log(shared).sum(axis=1)
    return -0.5 * (rows * np.log(2 * np.pi) + log_det + quadratic)


def _draws(idata: xr.DataTree, name: str) -> xr.DataArray:
    return idata.posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...)


def _new_cell_line_hierarchical(idata: xr.DataTree, held_out: pd.DataFrame, trained: int):
    """Hierarchical 7c (zero-sum cell lines): the sgRNA's intercept plus one new
    effect for the cell line. Relative to the trained lines' zero-sum effects
    a new line's effect has variance ``sigma_beta^2 (1 + 1/trained)``."""
    alpha = _draws(idata, "alpha").sel(sgrna=held_out["sgrna"].to_numpy()).to_numpy()
    residuals = held_out["logfc"].to_numpy()[None, :] - alpha
    tau = _draws(idata, "sigma_beta").to_numpy() * np.sqrt(1 + 1 / trained)
    return residuals, np.zeros(len(held_out), dtype=int), tau


def _new_cell_line_gene_by_cell_line(idata: xr.DataTree, held_out: pd.DataFrame, trained: int):
    """7a: every gene's intercept in a new cell line is a new draw around
    ``mu_alpha``; the rows of one gene share it."""
    mu = _draws(idata, "mu_alpha").to_numpy()[:, None]
    residuals = held_out["logfc"].to_numpy()[None, :] - mu
    blocks = pd.factorize(held_out["gene"])[0]
    return residuals, blocks, _draws(idata, "sigma_alpha").to_numpy()


#: How each model predicts a cell line it has not seen, by its name in
#: :mod:`crispr_models.series.models`.
NEW_CELL_LINE_PREDICTIONS: dict[str, Callable] = {
    "sgrna_cell_line_model": _new_cell_line_hierarchical,
    "gene_by_cell_line_model": _new_cell_line_gene_by_cell_line,
}


def _new_cell_line_prediction(builder: Callable, label: str) -> Callable:
    """How ``builder``'s model predicts a new cell line; refuses other models."""
    predict = NEW_CELL_LINE_PREDICTIONS.get(getattr(builder, "__name__", ""))
    if predict is None:
        raise ValueError(
            f"no new-cell-line prediction for {label}; known models: "
            + ", ".join(NEW_CELL_LINE_PREDICTIONS)
        )
    return predict


def new_cell_line_log_density(
    builder: Callable[[pd.DataFrame], pm.Model], idata: xr.DataTree, held_out: pd.DataFrame
) -> pd.Series:
    """Log posterior predictive density of each held-out cell line's rows,
    jointly, its new effects integrated out; indexed by cell line."""
    predict = _new_cell_line_prediction(builder, getattr(builder, "__name__", "this model"))
    trained = idata.posterior.sizes.get("cell_line", 0)
    sigma = _draws(idata, "sigma").to_numpy()
    densities = {}
    for cell_line, rows in held_out.groupby("cell_line", observed=True, sort=True):
        residuals, blocks, tau = predict(idata, rows, trained)
        per_draw = block_normal_logpdf(residuals, blocks, sigma, tau)
        densities[cell_line] = float(logsumexp(per_draw) - np.log(len(per_draw)))
    return pd.Series(densities, name="elpd")


def cell_line_folds(cell_lines: list[str], folds: int, rng: RandomSource) -> list[list[str]]:
    """The cell lines shuffled by ``rng`` and dealt into ``folds`` folds."""
    folds = check_positive_int("folds", folds)
    if not 2 <= folds <= len(cell_lines):
        raise ValueError(f"folds must be from 2 to the number of cell lines, got {folds}")
    shuffled = [str(c) for c in check_rng(rng).permutation(sorted(cell_lines))]
    return [sorted(shuffled[k::folds]) for k in range(folds)]


@dataclass(frozen=True)
class GroupedCrossValidation:
    """Per model, the elpd of every held-out cell line, and the comparison."""

    by_cell_line: pd.DataFrame  # one row per cell line, one column per model
    folds: list[list[str]]
    #: One row per refit: model, fold, divergences, max_r_hat, converged.
    refits: pd.DataFrame

    @property
    def all_converged(self) -> bool:
        return bool(self.refits["converged"].all())

    def table(self) -> pd.DataFrame:
        """Per model: elpd over the held-out cell lines, its standard error, and
        its difference from the best model with the difference's standard error."""
        elpd = self.by_cell_line.sum()
        best = elpd.idxmax()
        n = len(self.by_cell_line)
        rows = []
        for label in self.by_cell_line.columns:
            difference = self.by_cell_line[label] - self.by_cell_line[best]
            rows.append(
                {
                    "model": label,
                    "elpd_new_cell_line": elpd[label],
                    "se": float(np.sqrt(n) * self.by_cell_line[label].std(ddof=1)),
                    "elpd_diff": float(difference.sum()),
                    "dse": float(np.sqrt(n) * difference.std(ddof=1)) if label != best else 0.0,
                }
            )
        return pd.DataFrame(rows).sort_values("elpd_diff", ascending=False, ignore_index=True)


def grouped_kfold_by_cell_line(
    builders: Mapping[str, Callable[[pd.DataFrame], pm.Model]],
    data: pd.DataFrame,
    rng: RandomSource,
    settings: SamplerSettings,
    folds: int = 4,
) -> GroupedCrossValidation:
    """Refit each model without each fold of cell lines and score the held-out
    ones (:func:`new_cell_line_log_density`). The same folds for every model."""
    if len(builders) < 1:
        raise ValueError("builders must name at least one model")
    for label, builder in builders.items():  # every model, before the first fit
        _new_cell_line_prediction(builder, label)
    rng = check_rng(rng)
    split = cell_line_folds(list(data["cell_line"].astype(str).unique()), folds, rng)
    columns, refits = {}, []
    for label, builder in builders.items():
        scores = []
        for fold, held in enumerate(split):
            is_held = data["cell_line"].astype(str).isin(held)
            train = data[~is_held].reset_index(drop=True)
            idata = sample_posterior(builder(train), rng, settings)
            report = convergence_report(idata)
            refits.append(
                {
                    "model": label,
                    "fold": fold,
                    "divergences": report.divergences,
                    "max_r_hat": report.max_r_hat,
                    "converged": report.passed,
                }
            )
            scores.append(new_cell_line_log_density(builder, idata, data[is_held]))
        columns[label] = pd.concat(scores)
    return GroupedCrossValidation(pd.DataFrame(columns).sort_index(), split, pd.DataFrame(refits))
