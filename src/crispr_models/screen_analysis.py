"""What a screen's fit says: gene effects, the noise between replicates,
posterior predictive counts, and an approximate fit measured against NUTS
(scores against known essential genes: :mod:`crispr_models.screen_scoring`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import xarray as xr

from crispr_models.input_checks import (
    RandomSource,
    check_choice,
    check_non_negative_int,
    check_positive_int,
    check_rng,
)
from crispr_models.screen_data import Screen, log_fold_changes
from crispr_models.screen_model import (
    DIPLOID,
    GeneLayout,
    compile_guide_marginal,
    compile_log_integrand,
    copy_number_level,
)


def gene_effects(idata: xr.DataTree, threshold: float) -> pd.DataFrame:
    """Per gene: posterior mean and sd of its effect (log2 fold change at two
    copies) and the posterior probability that it lies below ``threshold``."""
    draws = idata.posterior["gene_effect"].stack(sample=("chain", "draw")).transpose("gene", ...)
    values = draws.to_numpy()
    return pd.DataFrame(
        {
            "mean": values.mean(axis=1),
            "sd": values.std(axis=1, ddof=1),
            "prob_below": (values < threshold).mean(axis=1),
        },
        index=pd.Index(draws["gene"].to_numpy(), name="gene"),
    )


def compare_approximation(reference: pd.DataFrame, approximate: pd.DataFrame, probability: float):
    """An approximation's gene effects against a reference fit of the same genes:
    RMSE of the means (and relative to the reference sds), the median ratio of
    sds and how many essentiality calls change."""
    approximate = approximate.reindex(reference.index)
    difference = approximate["mean"] - reference["mean"]
    called = reference["prob_below"] >= probability
    called_approx = approximate["prob_below"] >= probability
    return {
        "genes": len(reference),
        "rmse": float(np.sqrt(np.mean(difference**2))),
        "rmse_in_sd": float(np.sqrt(np.mean((difference / reference["sd"]) ** 2))),
        "sd_ratio_median": float((approximate["sd"] / reference["sd"]).median()),
        "calls_changed": int((called != called_approx).sum()),
        "calls_reference": int(called.sum()),
    }


def replicate_log_fold_changes(
    screen: Screen, draws: xr.Dataset | xr.DataTree, rng: RandomSource, num_draws: int = 100
) -> np.ndarray:
    """Predictive guide log2 fold changes, ``num_draws`` x guides: for evenly
    spaced draws of ``draws`` (a posterior or prior of
    :func:`~crispr_models.screen_model.read_count_model`), each guide's fold
    change drawn given its counts (:func:`draw_guide_fold_changes`; for a
    prior, whatever the counts say is what the draw would have to explain),
    new counts in every replicate from the negative binomial, turned into
    fold changes as the observed ones were."""
    rng = check_rng(rng)
    if isinstance(draws, xr.DataTree):  # a group of a fit, e.g. idata.posterior
        draws = draws.to_dataset()
    stacked = draws.stack(sample=("chain", "draw"))
    total = stacked.sizes["sample"]
    chosen = np.linspace(0, total - 1, min(check_positive_int("num_draws", num_draws), total))
    stacked = stacked.isel(sample=chosen.astype(int))
    layout = GeneLayout.of(screen)
    gene_lfc = stacked["gene_lfc"].transpose("sample", "gene").to_numpy()
    effect = (
        stacked["copy_number_effect"].transpose("sample", ...).to_numpy()
        if "copy_number_effect" in stacked
        else None
    )
    means = layout.guide_means(gene_lfc, effect)
    sigma_guide = stacked["sigma_guide"].to_numpy()
    alpha = 1.0 / stacked["excess_cv"].to_numpy() ** 2
    draw_fold_changes = guide_fold_change_sampler(screen)
    expected = screen.expected_log_counts()
    out = np.empty(means.shape)
    for d in range(means.shape[0]):
        lfc = draw_fold_changes(means[d], sigma_guide[d], alpha[d], rng)
        mu = np.exp(expected + np.log(2.0) * lfc[:, None])
        # NegBinom(mu, alpha) is numpy's (n, p) with n = alpha, p = alpha / (alpha + mu)
        counts = rng.negative_binomial(alpha[d], alpha[d] / (alpha[d] + mu))
        table = screen.guides.assign(**dict(zip(screen.replicates, counts.T, strict=True)))
        out[d] = log_fold_changes(replace(screen, guides=table)).to_numpy()
    return out


def guide_fold_change_sampler(screen: Screen, proposals: int = 32):
    """A function (guide means, sigma_guide, alpha, rng) -> one draw of each
    guide's fold change given its counts, which the model integrates out.

    Sampling-importance-resampling: ``proposals`` draws per guide from a
    normal at the integrand's mode with 1.5 times its Laplace scale (wider,
    so the weights stay bounded), one kept with probability proportional to
    integrand / proposal density."""
    marginal = compile_guide_marginal(screen)
    log_integrand = compile_log_integrand(screen)

    def draw(means, sigma_guide, alpha, rng):
        _, mode, scale = marginal(means, sigma_guide, alpha)
        width = 1.5 * scale
        z = rng.standard_normal((means.size, proposals))
        theta = mode[:, None] + width[:, None] * z
        log_weight = log_integrand(theta, means, sigma_guide, alpha) + 0.5 * z**2
        weight = np.exp(log_weight - log_weight.max(axis=1, keepdims=True))
        cumulative = np.cumsum(weight, axis=1)
        pick = (cumulative < rng.uniform(size=(means.size, 1)) * cumulative[:, -1:]).sum(axis=1)
        return theta[np.arange(means.size), pick]

    return draw


def predictive_tree(screen: Screen, prior: np.ndarray, posterior: np.ndarray) -> xr.DataTree:
    """Observed, prior and posterior predictive guide log2 fold changes
    (draws x guides each) in the shape :mod:`crispr_models.predictive_checks`
    and :func:`crispr_models.plotting.plot_predictive_checks` read."""
    obs = {"obs": np.arange(len(screen.guides))}
    observed = log_fold_changes(screen).to_numpy()
    return xr.DataTree.from_dict(
        {
            "observed_data": xr.Dataset({"logfc": ("obs", observed)}, coords=obs),
            "prior_predictive": xr.Dataset(
                {"logfc": (("chain", "draw", "obs"), prior[None])}, coords=obs
            ),
            "posterior_predictive": xr.Dataset(
                {"logfc": (("chain", "draw", "obs"), posterior[None])}, coords=obs
            ),
        }
    )


def guide_check_table(screen: Screen) -> pd.DataFrame:
    """The guides' groupings for the grouped checks: gene, copy-number level
    and chromosome, with their observed log2 fold change."""
    level = copy_number_level(screen.guides["copy_number"])
    return pd.DataFrame(
        {
            "logfc": log_fold_changes(screen).to_numpy(),
            "gene": screen.guides["gene"].to_numpy(),
            "copy number": [f"{c:02d}" for c in level],
            "chromosome": screen.guides["chr"].to_numpy(),
        }
    )


def by_copy_number(screen: Screen, gene_scores: dict[str, pd.Series]) -> pd.DataFrame:
    """Each gene's scores next to its copy number (the median over its guides,
    rounded and capped as the model's levels): long format for a figure."""
    copy_number = screen.gene_places()["copy_number"]
    level = pd.Series(copy_number_level(copy_number), index=copy_number.index)
    frames = [
        pd.DataFrame(
            {
                "gene": s.index,
                "score": s.to_numpy(),
                "method": m,
                "copy_number": level.reindex(s.index).to_numpy(),
            }
        )
        for m, s in gene_scores.items()
    ]
    table = pd.concat(frames, ignore_index=True)
    table["diploid"] = table["copy_number"] == DIPLOID
    return table


def copy_number_effect_table(idata: xr.DataTree, model: str) -> pd.DataFrame:
    """The fitted copy-number effect at each level, 0 at two copies: mean
    and central 94 % interval (``model`` labels the rows)."""
    effect = idata.posterior["copy_number_effect"].stack(sample=("chain", "draw"))
    draws = effect.transpose("sample", ...).to_numpy()
    return effect_summary(draws, effect["copy_number"].to_numpy(), model)


def effect_summary(draws: np.ndarray, copy_numbers: object, model: str) -> pd.DataFrame:
    """Draws x levels of a copy-number effect as
    :func:`copy_number_effect_table` gives them."""
    draws = np.asarray(draws, dtype=float)
    return pd.DataFrame(
        {
            "model": model,
            "copy_number": np.asarray(copy_numbers),
            "mean": draws.mean(axis=0),
            "lower": np.quantile(draws, 0.03, axis=0),
            "upper": np.quantile(draws, 0.97, axis=0),
        }
    )


def choose_genes(genes: pd.Index, num_genes: int, rng: RandomSource) -> pd.Index:
    """A simple random sample of ``num_genes`` genes (all when ``num_genes``
    is 0 or more than there are), drawn with ``rng``, in screen order. Simple
    random, so that the shared parameters fitted to it are the genome's: a
    sample rich in reference genes overstates the genes' spread."""
    rng = check_rng(rng)
    num_genes = check_non_negative_int("num_genes", num_genes)
    if num_genes == 0 or num_genes >= len(genes):
        return genes
    return genes[genes.isin(rng.choice(genes, num_genes, replace=False))]


#: How :func:`replicate_noise` bins the guides.
NOISE_GROUPINGS = ("abundance", "depletion")


def replicate_noise(screen: Screen, by: str, bins: int = 10) -> pd.DataFrame:
    r"""The counts' variation between replicates beyond Poisson's, in bins of
    the guides' abundance or depletion.

    Counts are scaled to the replicates' mean library size. For each guide
    and each replicate held out, two of the others give an unbiased estimate
    of the variance, :math:`S^2 = (x_a - x_b)^2 / 2`, and of the Poisson part
    (their mean, each scaled back by its library size); the held-out
    replicate's count (``abundance``) or log2 fold change (``depletion``)
    places the pair in a bin, so that the binning is independent of the
    noise measured (binning on the pair's own mean biases both). Per bin,
    with :math:`m` the pair's mean:

    - ``variance_to_mean``: :math:`\sum (S^2 - \text{Poisson}) / \sum m`,
      the excess variance per read: constant across bins if the variance is
      proportional to the mean (a negative binomial whose dispersion grows
      with the mean, NB1);
    - ``excess_cv``: :math:`\sqrt{\sum (S^2 - \text{Poisson}) / \sum (m^2 - S^2/2)}`,
      the coefficient of variation beyond Poisson's: constant across bins
      for one negative-binomial dispersion (NB2), as the count model has it.

    Also each bin's median pair mean (``count``), median held-out fold
    change and its number of pairs; ``attrs`` hold both measures over all
    pairs. With two replicates, the pair is binned
    by its own mean (biased towards less noise in the extreme bins)."""
    check_choice("by", by, NOISE_GROUPINGS)
    bins = check_positive_int("bins", bins)
    counts = screen.counts().astype(float)
    replicates = counts.shape[1]
    if replicates < 2:
        raise ValueError("replicate_noise needs at least two replicates")
    sizes = screen.library_sizes[list(screen.replicates)].to_numpy(float)
    scaled = counts * sizes.mean() / sizes
    plasmid = np.log2((screen.guides["plasmid"].to_numpy() + 0.5) / screen.library_sizes["plasmid"])
    fold_change = np.log2((counts + 0.5) / sizes) - plasmid[:, None]
    rows = []
    for held_out in range(replicates) if replicates > 2 else [None]:
        others = [r for r in range(replicates) if r != held_out]
        for i, a in enumerate(others):
            for b in others[i + 1 :]:
                pair = scaled[:, [a, b]]
                variance = (pair[:, 0] - pair[:, 1]) ** 2 / 2
                mean = pair.mean(axis=1)
                poisson = (
                    pair[:, 0] * sizes.mean() / sizes[a] + pair[:, 1] * sizes.mean() / sizes[b]
                ) / 2
                key = (
                    (scaled[:, held_out], fold_change[:, held_out])
                    if held_out is not None
                    else (mean, fold_change[:, [a, b]].mean(axis=1))
                )
                rows.append(
                    pd.DataFrame(
                        {
                            "abundance": key[0],
                            "depletion": key[1],
                            "count": mean,
                            "excess": variance - poisson,
                            "second_moment": mean**2 - variance / 2,
                        }
                    )
                )
    table = pd.concat(rows, ignore_index=True)
    table["bin"] = pd.qcut(table[by].rank(method="first"), bins, labels=False)
    grouped = table.groupby("bin")
    sums = grouped[["excess", "count", "second_moment"]].sum()
    summary = (
        pd.DataFrame(
            {
                "count": grouped["count"].median(),
                "log2_fold_change": grouped["depletion"].median(),
                "pairs": grouped.size(),
                "variance_to_mean": sums["excess"] / sums["count"],
                "excess_cv": np.sqrt((sums["excess"] / sums["second_moment"]).clip(lower=0)),
            }
        )
        .reset_index(drop=True)
        .assign(by=by)
    )
    total = sums.sum()
    summary.attrs = {
        "variance_to_mean": float(total["excess"] / total["count"]),
        "excess_cv": float(np.sqrt(max(total["excess"] / total["second_moment"], 0.0))),
    }
    return summary


def mark_not_estimable(effects: pd.DataFrame, gene_copy_number: pd.Series) -> pd.DataFrame:
    """``effects`` with an ``estimable`` column, and no effect (NaN) for the
    genes at zero copies: a homozygously deleted gene has no DNA for its
    guides to cut, so the screen cannot measure what losing it does."""
    estimable = (gene_copy_number.reindex(effects.index) > 0).to_numpy()
    marked = effects.astype(float).copy()
    marked.loc[~estimable] = np.nan
    marked["estimable"] = estimable
    marked.attrs = effects.attrs
    return marked
