"""Figures of the checks: predictive checks, SBC ranks, LOO, efficiency and
the sampler benchmark."""

from __future__ import annotations

from collections.abc import Mapping

import arviz as az
import numpy as np
import pandas as pd
import plotnine as gg
import xarray as xr
from scipy.stats import gaussian_kde

from crispr_models.checks.predictive import TAIL, group_p_values
from crispr_models.plots.base import (
    BAND,
    COLUMN_LABELS,
    OBSERVED,
    POSTERIOR,
    TRUE_LINE,
    TRUTH,
    _evenly_spaced,
    theme_crispr,
)


def _kde_curves(samples: list[np.ndarray], grid_size: int = 200) -> pd.DataFrame:
    """Gaussian kernel density of each sample on one shared grid: ``x``,
    ``density`` and ``draw`` (the sample's index). Computed here rather than
    by plotnine's ``stat_density``, which takes seconds for fifty curves."""
    pooled = np.concatenate(samples)
    grid = np.linspace(pooled.min(), pooled.max(), grid_size)
    curves = [
        pd.DataFrame({"x": grid, "density": gaussian_kde(sample)(grid), "draw": k})
        for k, sample in enumerate(samples)
    ]
    return pd.concat(curves, ignore_index=True)


def _predictive_curves(
    idata: xr.DataTree, group: str, var_name: str, num_draws: int
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Density curves of ``num_draws`` simulated data sets (spread evenly over
    the draws) and of the observed data, on the same grid."""
    stacked = az.extract(idata, group=group, var_names=[var_name])
    picked = _evenly_spaced(stacked.sizes["sample"], num_draws)
    observed = idata.observed_data[var_name].values.ravel()
    samples = [stacked.isel(sample=i).values.ravel() for i in picked]
    curves = _kde_curves([*samples, observed])
    is_observed = curves["draw"] == len(samples)
    return curves[~is_observed], curves[is_observed], len(picked)


def plot_predictive_check(
    idata: xr.DataTree,
    group: str = "posterior_predictive",
    var_name: str = "logfc",
    num_draws: int = 50,
) -> gg.ggplot:
    """Density of simulated datasets (thin lines) against the observed data (thick)."""
    if group not in ("prior_predictive", "posterior_predictive"):
        raise ValueError(
            f"group must be 'prior_predictive' or 'posterior_predictive', got {group!r}"
        )
    simulated, observed, drawn = _predictive_curves(idata, group, var_name, num_draws)
    label = "Prior" if group == "prior_predictive" else "Posterior"
    caption = f"blue: {drawn} simulated data sets; black: observed"
    return _density_curves(simulated, observed, f"{label} predictive check", caption)


def _density_curves(
    simulated: pd.DataFrame, observed: pd.DataFrame, title: str, caption: str
) -> gg.ggplot:
    """Thin blue curves of simulated data sets under the thick black observed one."""
    return (
        gg.ggplot(simulated, gg.aes(x="x", y="density", group="draw"))
        + gg.geom_line(color=POSTERIOR, alpha=0.25)
        + gg.geom_line(data=observed, color=OBSERVED, size=1.2)
        + gg.labs(x="logFC", y="density", title=title, caption=caption)
        + theme_crispr()
    )


def plot_efficiency(table: pd.DataFrame, title: str) -> gg.ggplot:
    """Lowest bulk ESS per second of sampling, by scenario and parameterisation:
    the median of the repeats (bar) and their range (whiskers), labelled with
    the divergences summed over the repeats.

    ``table`` needs columns ``scenario``, ``parameterization``,
    ``ess_per_second`` and ``divergences`` (one row per fit or repeat).
    """
    keys = ["scenario", "parameterization"]
    data = (
        table.groupby(keys, observed=True)
        .agg(
            median=("ess_per_second", "median"),
            low=("ess_per_second", "min"),
            high=("ess_per_second", "max"),
            divergences=("divergences", "sum"),
        )
        .reset_index()
    )
    data["label"] = data["divergences"].map(lambda d: f"{d} div.")
    dodge = gg.position_dodge(width=0.9)
    return (
        gg.ggplot(data, gg.aes(x="scenario", y="median", fill="parameterization"))
        + gg.geom_col(position=dodge)
        + gg.geom_errorbar(gg.aes(ymin="low", ymax="high"), position=dodge, width=0.2)
        + gg.geom_text(gg.aes(y="high", label="label"), position=dodge, va="bottom", size=8)
        + gg.labs(
            x="",
            y="lowest bulk ESS per second of sampling",
            fill="",
            title=title,
            caption="bars: median of the repeats; whiskers: range; labels: divergent transitions",
        )
        + theme_crispr()
    )


def plot_rank_ecdf_difference(
    differences: pd.DataFrame, band: pd.DataFrame, title: str
) -> gg.ggplot:
    """SBC ranks: each parameter's ECDF minus the uniform CDF, in its band.

    ``differences`` from :func:`crispr_models.checks.calibration.rank_ecdf_differences`
    (one line per scalar, a panel per variable) and ``band`` from
    :func:`~crispr_models.checks.calibration.rank_ecdf_band`. A calibrated model's
    lines stay in the grey band; a line above it at low ranks means the
    posterior sits too high (truths rank low); below zero and then above it,
    that it is too wide (ranks in the middle); above and then below, that it
    is too narrow (ranks at both ends).
    """
    return (
        gg.ggplot(differences, gg.aes(x="fractional_rank"))
        + gg.geom_ribbon(gg.aes(ymin="lower", ymax="upper"), data=band, fill=BAND, alpha=0.7)
        + gg.geom_hline(yintercept=0, linetype=TRUE_LINE, size=0.3)
        + gg.geom_step(gg.aes(y="ecdf_difference", group="parameter"), alpha=0.4, size=0.4)
        + gg.facet_wrap("variable")
        + gg.labs(
            x="fractional rank of the true value",
            y="ECDF - uniform CDF",
            title=title,
            caption="grey: simultaneous 95 % band for uniform ranks; a line per scalar",
        )
        + theme_crispr()
    )


def plot_pareto_k(pareto_k: pd.DataFrame, threshold: float, title: str) -> gg.ggplot:
    """Pareto k of every observation, a panel per chapter, a row per model.

    ``pareto_k`` needs columns ``chapter``, ``model``, ``observation`` and
    ``pareto_k``; points above ``threshold`` (dashed) are observations whose
    PSIS-LOO estimate is unreliable.
    """
    data = pareto_k.assign(unreliable=pareto_k["pareto_k"] > threshold)
    return (
        gg.ggplot(data, gg.aes(x="pareto_k", y="label", color="unreliable"))
        + gg.geom_jitter(height=0.2, width=0, size=0.6, alpha=0.5, random_state=0)
        + gg.geom_vline(xintercept=threshold, linetype=TRUE_LINE)
        + gg.facet_wrap("chapter", scales="free_y", ncol=1)
        + gg.scale_color_manual(values={False: POSTERIOR, True: TRUTH})
        + gg.labs(x="Pareto k", y="", color=f"k > {threshold}", title=title)
        + theme_crispr()
    )


def plot_benchmark(table: pd.DataFrame, title: str) -> gg.ggplot:
    """Lowest bulk ESS per second by model and engine, of sampling and of the
    whole call: the median of the repeats (point) and their range (bar).

    ``table`` from :func:`crispr_models.checks.benchmark.run_benchmark`, one row per
    fit. Log scale: the engines differ by orders of magnitude.
    """
    measures = {
        "ess_per_second_sampling": "per second of sampling",
        "ess_per_second_total": "per second of the whole call",
    }
    long = table.melt(
        id_vars=["chapter", "sampler"], value_vars=list(measures), var_name="measure"
    ).assign(measure=lambda d: pd.Categorical(d["measure"].map(measures), list(measures.values())))
    long["chapter"] = pd.Categorical(long["chapter"], table["chapter"].unique())
    long["sampler"] = pd.Categorical(long["sampler"], table["sampler"].unique())
    dodge = gg.position_dodge(width=0.6)
    return (
        gg.ggplot(long, gg.aes(x="chapter", y="value", colour="sampler"))
        + gg.stat_summary(
            fun_y=np.median, fun_ymin=np.min, fun_ymax=np.max, position=dodge, size=0.6
        )
        + gg.scale_y_log10()
        + gg.facet_wrap("measure", ncol=1, scales="free_y")
        + gg.labs(
            x="chapter",
            y="lowest bulk ESS per second",
            colour="",
            title=title,
            caption="point: median of the repeats; bar: lowest to highest",
        )
        + theme_crispr()
    )


def plot_group_p_values(
    fits: Mapping[str, tuple[xr.DataTree, pd.DataFrame]],
    title: str,
    by: tuple[str, ...] = ("gene", "sgrna", "cell_line"),
) -> gg.ggplot:
    """Posterior predictive p-values of each group's mean logFC, one point per
    group, by grouping (columns) and fit (rows); the dashed lines mark the
    tails (0.025 and 0.975) outside which a group counts as extreme.

    ``fits`` maps a label to ``(idata, data)``, the fit and its observations.
    """
    frames = [
        group_p_values(idata, data, grouping).assign(
            fit=label, grouping=COLUMN_LABELS.get(grouping, grouping)
        )
        for label, (idata, data) in fits.items()
        for grouping in by
    ]
    table = pd.concat(frames, ignore_index=True)
    table["fit"] = pd.Categorical(table["fit"], list(fits))
    table["extreme"] = (table["p_value"] < TAIL) | (table["p_value"] > 1 - TAIL)
    return (
        gg.ggplot(table, gg.aes(x="grouping", y="p_value", colour="extreme"))
        + gg.geom_hline(yintercept=[TAIL, 1 - TAIL], linetype="dashed", colour="grey")
        + gg.geom_jitter(width=0.25, height=0, size=1.2, alpha=0.8, random_state=0)
        + gg.facet_wrap("fit", ncol=1)
        + gg.scale_colour_manual(values={False: "#1f77b4", True: "#d62728"})
        + gg.labs(x="", y="p-value of the group mean", colour="extreme", title=title)
        + theme_crispr()
        + gg.theme(figure_size=(7, 1.6 * len(fits) + 1))
    )


def plot_loo_pit(pit: pd.DataFrame, title: str, bins: int = 20) -> gg.ggplot:
    """Histograms of LOO-PIT values per fit (``pit``: columns ``fit`` and
    ``loo_pit``); the dashed line is the count a uniform distribution expects."""
    pit = pit.assign(fit=lambda d: pd.Categorical(d["fit"], d["fit"].unique()))
    expected = pit.groupby("fit", observed=True).size().div(bins).rename("expected").reset_index()
    return (
        gg.ggplot(pit, gg.aes(x="loo_pit"))
        + gg.geom_histogram(bins=bins, boundary=0, fill="#1f77b4", colour="white")
        + gg.geom_hline(gg.aes(yintercept="expected"), data=expected, linetype="dashed")
        + gg.facet_wrap("fit", ncol=3, scales="free_y")
        + gg.labs(x="LOO-PIT", y="observations", title=title)
        + theme_crispr()
    )


def plot_predictive_checks(
    idata: xr.DataTree, var_name: str = "logfc", num_draws: int = 50
) -> gg.ggplot:
    """Prior (left) and posterior (right) predictive checks side by side:
    densities of simulated data sets (thin) against the observed data (thick),
    each panel on its own scale."""
    panels = {
        "prior predictive": "prior_predictive",
        "posterior predictive": "posterior_predictive",
    }
    simulated, observed = [], []
    for panel, group in panels.items():
        curves, data, drawn = _predictive_curves(idata, group, var_name, num_draws)
        simulated.append(curves.assign(check=panel))
        observed.append(data.assign(check=panel))
    frames = [pd.concat(simulated, ignore_index=True), pd.concat(observed, ignore_index=True)]
    for frame in frames:
        frame["check"] = pd.Categorical(frame["check"], categories=list(panels))
    caption = f"blue: {drawn} simulated data sets per panel; black: observed"
    return _density_curves(
        *frames, "Prior and posterior predictive checks", caption
    ) + gg.facet_wrap("check", scales="free")
