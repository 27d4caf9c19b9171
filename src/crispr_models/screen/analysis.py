"""What a screen's fit says: gene effects, the noise between replicates,
posterior predictive counts, and an approximate fit measured against NUTS
(scores against known essential genes: :mod:`crispr_models.screen.scoring`).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import xarray as xr
from scipy import stats

from crispr_models.core.input_checks import (
    RandomSource,
    check_choice,
    check_non_negative_int,
    check_positive_int,
    check_rng,
)
from crispr_models.screen.data import Screen, log_fold_changes
from crispr_models.screen.model import (
    DIPLOID,
    NOISE_PARAMETERS,
    GeneLayout,
    compile_guide_marginal,
    compile_log_integrand,
    copy_number_label,
    copy_number_level,
    count_log_terms,
    negative_binomial_parameters,
    noise_of,
)


def gene_effects(
    idata: xr.DataTree, threshold: float, chains: list[int] | None = None
) -> pd.DataFrame:
    """Per gene: posterior mean and sd of its effect (log2 fold change at two
    copies) and the posterior probability that it lies below ``threshold``,
    from every chain or only ``chains`` (positions)."""
    effect = idata.posterior["gene_effect"]
    if chains is not None:
        effect = effect.isel(chain=list(chains))
    draws = effect.stack(sample=("chain", "draw")).transpose("gene", ...)
    values = draws.to_numpy()
    return pd.DataFrame(
        {
            "mean": values.mean(axis=1),
            "sd": values.std(axis=1, ddof=1),
            "prob_below": (values < threshold).mean(axis=1),
        },
        index=pd.Index(draws["gene"].to_numpy(), name="gene"),
    )


def chain_halves(idata: xr.DataTree, threshold: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`gene_effects` from the first and the second half of a fit's
    chains: two independent NUTS runs (each chain draws from its own random
    stream), whose differences are the baseline an approximation's error is
    judged against. An odd last chain is left out, so both halves have as
    many draws."""
    chains = idata.posterior.sizes["chain"]
    if chains < 2:
        raise ValueError(f"the fit has {chains} chain; two halves need at least 2")
    half = chains // 2
    return (
        gene_effects(idata, threshold, chains=list(range(half))),
        gene_effects(idata, threshold, chains=list(range(half, 2 * half))),
    )


def compare_approximation(reference: pd.DataFrame, approximate: pd.DataFrame, probability: float):
    """An approximation's gene effects against a reference fit of the same genes:
    RMSE of the means (and relative to the reference sds), the median ratio of
    sds, the largest change in a gene's probability of essentiality and how
    many essentiality calls change (few calls, few changes: the
    probabilities say more)."""
    approximate = approximate.reindex(reference.index)
    difference = approximate["mean"] - reference["mean"]
    called = reference["prob_below"] >= probability
    called_approx = approximate["prob_below"] >= probability
    return {
        "genes": len(reference),
        "rmse": float(np.sqrt(np.mean(difference**2))),
        "rmse_in_sd": float(np.sqrt(np.mean((difference / reference["sd"]) ** 2))),
        "sd_ratio_median": float((approximate["sd"] / reference["sd"]).median()),
        "max_probability_change": float(
            (approximate["prob_below"] - reference["prob_below"]).abs().max()
        ),
        "calls_changed": int((called != called_approx).sum()),
        "calls_reference": int(called.sum()),
    }


#: The bins of :func:`approximation_groups`' guides per gene: right edges
#: (the first bin starts above 0) and labels.
GUIDES_PER_GENE_EDGES = (3, 4, 5, np.inf)
GUIDES_PER_GENE_LABELS = ("1-3", "4", "5", "6+")


def approximation_groups(screen: Screen) -> pd.DataFrame:
    """Per gene, the groups an approximation's error is reported by: its
    guides (binned, :data:`GUIDES_PER_GENE_EDGES`), whether any of its counts
    is zero, and its copy-number level."""
    guides = screen.guides
    per_gene = guides.groupby("gene").size()
    bins = pd.cut(per_gene, (0, *GUIDES_PER_GENE_EDGES), labels=GUIDES_PER_GENE_LABELS)
    zero = (guides[list(screen.replicates)] == 0).any(axis=1).groupby(guides["gene"]).any()
    levels = copy_number_level(screen.gene_places()["copy_number"])
    return pd.DataFrame(
        {
            "guides per gene": bins.astype(str),
            "zero counts": zero.map({True: "some", False: "none"}),
            "copy number": [copy_number_label(level) for level in levels],
        },
        index=per_gene.index,
    )


def approximation_error_by_group(
    reference: pd.DataFrame,
    candidates: dict[str, pd.DataFrame],
    groups: pd.DataFrame,
    probability: float,
) -> pd.DataFrame:
    """:func:`compare_approximation` of each candidate against ``reference``,
    on every gene and within each group of each column of ``groups`` (one
    row per gene, :func:`approximation_groups`): a long table, one row per
    grouping, group and candidate."""
    groups = groups.reindex(reference.index)
    rows = []
    for grouping in ("all genes", *groups.columns):
        labels = (
            pd.Series("all", index=reference.index) if grouping == "all genes" else groups[grouping]
        )
        for group, genes in labels.groupby(labels, sort=True).groups.items():
            for name, found in candidates.items():
                found_error = compare_approximation(reference.loc[genes], found, probability)
                rows.append({"grouping": grouping, "group": group, "against": name, **found_error})
    return pd.DataFrame(rows)


def replicate_log_fold_changes(
    screen: Screen, draws: xr.Dataset | xr.DataTree, rng: RandomSource, num_draws: int = 100
) -> np.ndarray:
    """Predictive guide log2 fold changes, ``num_draws`` x guides: for evenly
    spaced draws of ``draws`` (a posterior or prior of
    :func:`~crispr_models.screen.model.read_count_model`), each guide's fold
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
    gene_lfc = stacked["gene_lfc"].transpose("sample", "gene").to_numpy()
    effect = (
        stacked["copy_number_effect"].transpose("sample", ...).to_numpy()
        if "copy_number_effect" in stacked
        else None
    )
    layout = GeneLayout.for_effect(screen, effect)
    means = layout.guide_means(gene_lfc, effect)
    sigma_guide = stacked["sigma_guide"].to_numpy()
    noise = noise_of(stacked.data_vars)
    noise_value = stacked[NOISE_PARAMETERS[noise]].to_numpy()
    draw_fold_changes = guide_fold_change_sampler(screen, noise)
    expected = screen.expected_log_counts()
    out = np.empty(means.shape)
    for d in range(means.shape[0]):
        lfc = draw_fold_changes(means[d], sigma_guide[d], noise_value[d], rng)
        mu = np.exp(expected + np.log(2.0) * lfc[:, None])
        counts = rng.negative_binomial(*negative_binomial_parameters(noise, mu, noise_value[d]))
        table = screen.guides.assign(**dict(zip(screen.replicates, counts.T, strict=True)))
        out[d] = log_fold_changes(replace(screen, guides=table)).to_numpy()
    return out


def guide_fold_change_sampler(screen: Screen, noise: str, proposals: int = 32):
    """A function (guide means, sigma_guide, the ``noise`` model's parameter,
    rng) -> one draw of each guide's fold change given its counts, which the
    model integrates out.

    Sampling-importance-resampling: ``proposals`` draws per guide from a
    normal at the integrand's mode with 1.5 times its Laplace scale (wider,
    so the weights stay bounded), one kept with probability proportional to
    integrand / proposal density."""
    marginal = compile_guide_marginal(screen, noise)
    log_integrand = compile_log_integrand(screen, noise)

    def draw(means, sigma_guide, noise_value, rng):
        _, mode, scale = marginal(means, sigma_guide, noise_value)
        width = 1.5 * scale
        z = rng.standard_normal((means.size, proposals))
        theta = mode[:, None] + width[:, None] * z
        log_weight = log_integrand(theta, means, sigma_guide, noise_value) + 0.5 * z**2
        weight = np.exp(log_weight - log_weight.max(axis=1, keepdims=True))
        cumulative = np.cumsum(weight, axis=1)
        pick = (cumulative < rng.uniform(size=(means.size, 1)) * cumulative[:, -1:]).sum(axis=1)
        return theta[np.arange(means.size), pick]

    return draw


def predictive_tree(screen: Screen, prior: np.ndarray, posterior: np.ndarray) -> xr.DataTree:
    """Observed, prior and posterior predictive guide log2 fold changes
    (draws x guides each) in the shape :mod:`crispr_models.checks.predictive`
    and :func:`crispr_models.plots.checks.plot_predictive_checks` read."""
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


def moment_estimates(screen: Screen, noise: str) -> dict[str, float]:
    """Rough values of ``sigma_guide`` and the ``noise`` model's parameter
    from the counts alone, where a fit can start
    (:func:`~crispr_models.screen.genome.starting_draws`): the noise from
    :func:`replicate_noise` over all pairs (``excess_per_read`` is its
    ``variance_to_mean``, ``excess_cv`` its ``excess_cv``), and
    ``sigma_guide`` from the median over genes of the variance of their
    guides' fold changes less the counts' share of it (by the delta method:
    the variance of a log2 count is its variance over its squared mean, over
    ln 2 squared; the median, because a gene with one failing guide would
    dominate a mean, each variance scaled by its median under normality)."""
    check_choice("noise", noise, tuple(NOISE_PARAMETERS))
    pooled = replicate_noise(screen, "abundance").attrs
    counts = screen.counts().astype(float)
    mean = counts.mean(axis=1) + 0.5
    if noise == "per_read":
        value = max(pooled["variance_to_mean"], 0.0)
        relative_variance = (1.0 + value) / mean
    else:
        value = pooled["excess_cv"]
        relative_variance = 1.0 / mean + value**2
    guides = pd.DataFrame(
        {
            "gene": screen.guides["gene"].to_numpy(),
            "lfc": log_fold_changes(screen).to_numpy(),
            "count_variance": relative_variance / np.log(2.0) ** 2 / counts.shape[1],
        }
    )
    by_gene = guides.groupby("gene")
    # a normal sample variance of df degrees of freedom has median
    # chi2(df).median() / df times the variance: divided by it, the median
    # over genes is unbiased
    df = by_gene.size() - 1
    median_ratio = stats.chi2.median(df.clip(lower=1)) / df.clip(lower=1)
    variance = by_gene["lfc"].var(ddof=1) / median_ratio
    spread = (variance - by_gene["count_variance"].mean()).dropna()
    sigma_guide = float(np.sqrt(max(spread.median(), 1e-4)))
    return {"sigma_guide": sigma_guide, NOISE_PARAMETERS[noise]: value}


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


#: :func:`held_out_coverage`'s grid of each guide's fold change: points of a
#: wide first pass (spanning the guide's prior and its counts, this many
#: log2 units beyond both), then of a fine pass over this many of the first
#: pass's sds around its mean.
HELD_OUT_POINTS, HELD_OUT_MARGIN, HELD_OUT_HALF_WIDTH_SDS = 41, 3.0, 7.0


def held_out_coverage(
    screen: Screen,
    effects: pd.DataFrame,
    draw: dict,
    probability: float = 0.9,
    bins: int = 10,
) -> pd.DataFrame:
    r"""How often each replicate's count, held out, falls in its central
    ``probability`` predictive interval, in bins (deciles by default) of the
    guides' abundance.

    For each replicate :math:`h` and guide: its fold change's posterior given
    the other replicates' counts, with its gene's fitted fold change as the
    prior mean and the guides' sd widened by the gene's posterior sd
    (``effects``, :func:`~crispr_models.screen.genome.genome_wide_fit`'s, at
    two copies; ``draw`` holds ``sigma_guide``, the noise parameter and the
    copy-number effect), computed on a grid; then the count's predictive
    distribution, the negative binomial mixed over that posterior. A count
    is inside when it lies between the interval's discrete ends (so a
    discrete interval covers at least ``probability``). The gene's fit has
    seen the held-out counts of its own guides: one replicate of one guide
    is about a tenth of what fixes a gene of four guides, a small optimism.

    Per bin of the other replicates' mean count (scaled to the mean library
    size): its median, the share covered and its binomial standard error,
    and the number of counts; guides at zero copies are left out (their
    genes have no effect). ``attrs`` hold the share covered over all."""
    noise = noise_of(draw)
    if not 0.0 < probability < 1.0:
        raise ValueError(f"probability must lie strictly between 0 and 1, got {probability!r}")
    bins = check_positive_int("bins", bins)
    replicates = len(screen.replicates)
    if replicates < 2:
        raise ValueError("held_out_coverage needs at least two replicates")
    effect = draw.get("copy_number_effect")
    layout = GeneLayout.for_effect(screen, effect)
    gene_table = effects.reindex(layout.genes)
    gene_lfc = gene_table["mean"].to_numpy() + layout.gene_shift(effect)
    prior_mean = layout.guide_means(gene_lfc, effect)
    prior_sd = np.hypot(draw["sigma_guide"], gene_table["sd"].to_numpy()[layout.gene_index])
    counts = screen.counts().astype(float)
    log_offset = screen.expected_log_counts()
    sizes = screen.library_sizes[list(screen.replicates)].to_numpy(float)
    value = draw[NOISE_PARAMETERS[noise]]
    log_terms = _compiled_count_log_terms(noise)
    tail = (1.0 - probability) / 2.0
    estimable = screen.guides["copy_number"].to_numpy() > 0
    rows = []
    for held_out in range(replicates):
        others = [r for r in range(replicates) if r != held_out]
        grid, weights = _guide_posterior_grid(
            lambda y, log_mu: log_terms(y, log_mu, value),
            counts[:, others],
            log_offset[:, others],
            prior_mean,
            prior_sd,
        )
        mu = np.exp(log_offset[:, [held_out]] + np.log(2.0) * grid)
        n, p = negative_binomial_parameters(noise, mu, value)
        y = counts[:, [held_out]]
        at = np.sum(weights * stats.nbinom.cdf(y, n, p), axis=1)
        below = np.sum(weights * stats.nbinom.cdf(y - 1, n, p), axis=1)
        rows.append(
            pd.DataFrame(
                {
                    "abundance": (counts[:, others] / sizes[others]).mean(axis=1) * sizes.mean(),
                    "covered": (at >= tail) & (below < 1.0 - tail),
                    "estimable": estimable,
                }
            )
        )
    table = pd.concat(rows, ignore_index=True)
    table = table[table["estimable"]].copy()
    table["bin"] = pd.qcut(table["abundance"].rank(method="first"), bins, labels=False)
    grouped = table.groupby("bin")
    covered, size = grouped["covered"].mean(), grouped.size()
    summary = pd.DataFrame(
        {
            "abundance": grouped["abundance"].median(),
            "coverage": covered,
            "se": np.sqrt(covered * (1.0 - covered) / size),
            "counts": size,
        }
    ).reset_index(drop=True)
    summary.attrs = {"coverage": float(table["covered"].mean()), "probability": probability}
    return summary


def _compiled_count_log_terms(noise: str):
    """:func:`~crispr_models.screen.model.count_log_terms` as a numpy
    function of (counts, log mu, the noise parameter), arrays of one shape."""
    counts, log_mu = pt.dtensor3("counts"), pt.dtensor3("log_mu")
    value = pt.dscalar("value")
    return pytensor.function([counts, log_mu, value], count_log_terms(noise, counts, log_mu, value))


def _guide_posterior_grid(log_terms, counts, log_offset, prior_mean, prior_sd):
    """Each guide's fold change on a grid (guides x points) and its
    posterior weights there, given ``counts`` (guides x replicates), the
    counts' log terms and a normal prior: a wide pass, then a fine one
    around its mean."""
    observed = np.log2((counts + 0.5) / np.exp(log_offset)).mean(axis=1)
    low = np.minimum(observed, prior_mean) - HELD_OUT_MARGIN
    high = np.maximum(observed, prior_mean) + HELD_OUT_MARGIN
    wide = low[:, None] + (high - low)[:, None] * np.linspace(0.0, 1.0, HELD_OUT_POINTS)
    weights = _grid_weights(log_terms, wide, counts, log_offset, prior_mean, prior_sd)
    mean = np.sum(weights * wide, axis=1)
    sd = np.sqrt(np.sum(weights * (wide - mean[:, None]) ** 2, axis=1))
    offsets = HELD_OUT_HALF_WIDTH_SDS * np.linspace(-1.0, 1.0, HELD_OUT_POINTS)
    fine = mean[:, None] + sd[:, None] * offsets[None, :]
    return fine, _grid_weights(log_terms, fine, counts, log_offset, prior_mean, prior_sd)


def _grid_weights(log_terms, grid, counts, log_offset, prior_mean, prior_sd):
    """Normalised posterior weights of each guide's grid points."""
    log_mu = log_offset[:, :, None] + np.log(2.0) * grid[:, None, :]
    y = np.broadcast_to(counts[:, :, None], log_mu.shape)
    data = np.sum(log_terms(y, log_mu), axis=1)
    log_density = data - 0.5 * ((grid - prior_mean[:, None]) / prior_sd[:, None]) ** 2
    return normalised_weights(log_density)


def normalised_weights(log_density: np.ndarray) -> np.ndarray:
    """Each row's log density on its grid points as weights that sum to 1
    (shifted by the row's maximum first, so that none overflows)."""
    weights = np.exp(log_density - log_density.max(axis=1, keepdims=True))
    return weights / weights.sum(axis=1, keepdims=True)
