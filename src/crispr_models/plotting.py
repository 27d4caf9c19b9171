"""Figures the notebooks share. Every function returns a figure (a plotnine
``ggplot`` or a matplotlib ``Figure``); none shows or saves it."""

from __future__ import annotations

from collections.abc import Mapping

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import plotnine as gg
import xarray as xr
from matplotlib.figure import Figure
from scipy.stats import gaussian_kde

from crispr_models.diagnostics import HDI_LOWER, HDI_PROB, HDI_UPPER
from crispr_models.predictive_checks import TAIL, group_p_values
from crispr_models.screen_data import CHROMOSOMES
from crispr_models.screen_model import copy_number_label

TRUE_LINE = "dashed"

#: Axis labels of the simulated data's columns, for every figure that plots them.
COLUMN_LABELS = {
    "rna": "RNA expression (z-score)",
    "cna": "copy number",
    "cna_diploid": "copy number minus 2 (0: diploid)",
    "cna_z": "copy number, z-scored within gene",
    "cell_line": "cell line",
    "sgrna": "sgRNA",
}

#: The book's one palette. Posterior (and anything the model says) blue,
#: truth red, observed data black, reference bands grey; categorical colours
#: (genes, samplers, parameterisations) use plotnine's default hue scale.
POSTERIOR = "#3b75af"
TRUTH = "#c0392b"
OBSERVED = "black"
BAND = "#cccccc"


def theme_crispr(base_size: int = 11) -> gg.theme:
    """The book's plotnine theme: minimal, legible, fixed figure size."""
    return gg.theme_minimal(base_size=base_size) + gg.theme(
        figure_size=(7, 4.5),
        plot_title=gg.element_text(weight="bold"),
        legend_position="right",
    )


def _gene_lines(alpha, beta, genes: list[str]) -> pd.DataFrame:
    """One row per gene with intercept and slope (scalars broadcast)."""
    return pd.DataFrame(
        {
            "gene": pd.Categorical(genes, categories=genes),
            "alpha": np.broadcast_to(np.asarray(alpha, dtype=float), len(genes)),
            "beta": np.broadcast_to(np.asarray(beta, dtype=float), len(genes)),
        }
    )


def _rna_labels(title: str, caption: str) -> gg.labs:
    """Axis labels of every logFC-against-expression figure, kept identical."""
    return gg.labs(x=COLUMN_LABELS["rna"], y="logFC", color="gene", title=title, caption=caption)


def _genes(observations: pd.DataFrame) -> list[str]:
    return [str(g) for g in pd.Categorical(observations["gene"]).categories]


def plot_data_with_truth(
    observations: pd.DataFrame, truth: dict, title: str = "Simulated data"
) -> gg.ggplot:
    """logFC against RNA expression, one colour per gene, true lines dashed."""
    lines = _gene_lines(truth["alpha"], truth["beta"], _genes(observations))
    return (
        gg.ggplot(observations, gg.aes(x="rna", y="logfc", color="gene"))
        + gg.geom_point(size=2, alpha=0.8)
        + gg.geom_abline(
            gg.aes(intercept="alpha", slope="beta", color="gene"), data=lines, linetype=TRUE_LINE
        )
        + _rna_labels(title, caption="dashed: true line")
        + theme_crispr()
    )


def _evenly_spaced(total: int, num: int) -> np.ndarray:
    """Indices of ``num`` samples spread evenly over ``total`` stacked draws.

    Deterministic on purpose: the same posterior always gives the same figure.
    """
    return np.unique(np.linspace(0, total - 1, num=min(num, total)).astype(int))


def plot_posterior_lines(
    idata: xr.DataTree,
    observations: pd.DataFrame,
    truth: dict,
    num_lines: int = 100,
    title: str = "Posterior regression lines",
) -> gg.ggplot:
    """Posterior draws of each gene's line over its data, truth dashed."""
    genes = _genes(observations)
    posterior = az.extract(idata, var_names=["alpha", "beta"])
    picked = _evenly_spaced(posterior.sizes["sample"], num_lines)
    frames = []
    for i in picked:
        draw = posterior.isel(sample=i)
        frames.append(_gene_lines(draw["alpha"].values, draw["beta"].values, genes))
    draws = pd.concat(frames, ignore_index=True)
    plot = (
        gg.ggplot(observations, gg.aes(x="rna", y="logfc"))
        + gg.geom_abline(
            gg.aes(intercept="alpha", slope="beta", color="gene"), data=draws, alpha=0.08
        )
        + gg.geom_point(gg.aes(color="gene"), size=1.8)
        + gg.geom_abline(
            gg.aes(intercept="alpha", slope="beta"),
            data=_gene_lines(truth["alpha"], truth["beta"], genes),
            linetype=TRUE_LINE,
            color=OBSERVED,
        )
        + _rna_labels(title, caption=f"{len(picked)} posterior draws; dashed black: true line")
        + theme_crispr()
    )
    if len(genes) > 1:
        plot = plot + gg.facet_wrap("gene") + gg.guides(color="none")
    return plot


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


def plot_recovery(table: pd.DataFrame, title: str | None = None) -> gg.ggplot:
    """Forest plot: posterior mean and 94 % HDI per parameter, true value as a
    cross; titled by default with the fit's name (the table's ``fit``)."""
    if title is None:
        fits = table["fit"].unique() if "fit" in table else []
        title = f"{fits[0] if len(fits) == 1 else 'The fit'}: posterior against the truth"
    data = table.assign(
        parameter=pd.Categorical(table["parameter"], categories=table["parameter"][::-1]),
        covered=table["hdi_covers_truth"].map({True: "yes", False: "no"}).fillna("no truth"),
    )
    return (
        gg.ggplot(data, gg.aes(y="parameter"))
        + gg.geom_errorbarh(gg.aes(xmin=HDI_LOWER, xmax=HDI_UPPER), height=0.3, color=POSTERIOR)
        + gg.geom_point(gg.aes(x="mean"), color=POSTERIOR, size=2)
        + gg.geom_point(gg.aes(x="true_value", shape="covered"), color=TRUTH, size=3)
        + gg.scale_shape_manual(values={"yes": "x", "no": "D", "no truth": "."})
        + gg.labs(
            x="value",
            y="",
            shape="HDI covers truth",
            title=title,
            caption="blue: posterior mean and 94 % HDI; red: true value",
        )
        + theme_crispr()
    )


def plot_trace(idata: xr.DataTree, var_names: list[str]) -> Figure:
    """arviz-plots' trace plot: each chain's density (left) and draws (right).

    Vector variables are drawn compactly, one line per element. The figure is
    returned, not shown: it is closed in pyplot so that a notebook displays
    it once, as the cell's value.
    """
    collection = az.plot_trace_dist(
        idata,
        var_names=var_names,
        compact=True,
        backend="matplotlib",
        figure_kwargs={"figsize": (10, 2.2 * len(var_names)), "layout": "constrained"},
    )
    figure = collection.get_viz("figure")
    plt.close(figure)
    return figure


def plot_observations(
    observations: pd.DataFrame,
    x: str,
    title: str,
    color: str = "gene",
    facet: str | None = None,
) -> gg.ggplot:
    """logFC against any covariate, coloured (and optionally faceted) by a label.

    The x axis is labelled from :data:`COLUMN_LABELS`; a categorical axis
    (cell lines) shows no tick labels, which would overlap.
    """
    for column in (x, "logfc", color, *([facet] if facet else [])):
        if column not in observations.columns:
            raise ValueError(
                f"observations has no column {column!r}; columns: {list(observations.columns)}"
            )
    plot = (
        gg.ggplot(observations, gg.aes(x=x, y="logfc", color=color))
        + gg.geom_point(size=1.8, alpha=0.7)
        + gg.labs(x=COLUMN_LABELS.get(x, x), y="logFC", color=color.replace("_", " "), title=title)
        + theme_crispr()
    )
    if not pd.api.types.is_numeric_dtype(observations[x]):
        plot = plot + gg.theme(axis_text_x=gg.element_blank())
    if facet:
        plot = plot + gg.facet_wrap(facet)
    return plot


def plot_pair(
    draws: pd.DataFrame, x: str, y: str, title: str, truth: Mapping[str, object] | None = None
) -> gg.ggplot:
    """Joint posterior draws of two parameters: a ridge means they trade off.

    ``draws`` comes from :func:`crispr_models.diagnostics.posterior_draws`;
    where ``truth`` (the simulation's true values by name) holds both ``x``
    and ``y``, their true pair is marked with a red cross.
    """
    if truth is not None and x in truth and y in truth:
        truth_point: tuple[object, object] | None = (truth[x], truth[y])
    else:
        truth_point = None
    correlation = float(np.corrcoef(draws[x], draws[y])[0, 1])
    # Element names such as alpha[gene_A] are not valid plotnine expressions.
    pair = pd.DataFrame({"x": draws[x].to_numpy(), "y": draws[y].to_numpy()})
    plot = (
        gg.ggplot(pair, gg.aes(x="x", y="y"))
        + gg.geom_point(alpha=0.15, size=0.8, color=POSTERIOR)
        + gg.labs(
            x=x,
            y=y,
            title=title,
            caption=f"{len(draws)} posterior draws; correlation {correlation:+.2f}"
            + ("; red: true values" if truth_point else ""),
        )
        + theme_crispr()
        + gg.theme(figure_size=(5.5, 4.5))
    )
    if truth_point is not None:
        point = pd.DataFrame({"x": [truth_point[0]], "y": [truth_point[1]]})
        plot = plot + gg.geom_point(
            gg.aes(x="x", y="y"), data=point, color=TRUTH, shape="x", size=5
        )
    return plot


def plot_prior_predictive_comparison(
    prior_predictives: dict[str, xr.DataTree],
    observed: np.ndarray,
    var_name: str = "logfc",
    limits: tuple[float, float] = (-30.0, 30.0),
) -> gg.ggplot:
    """Prior predictive logFC under several priors, one panel each, data in black.

    Values outside ``limits`` are counted in the caption rather than drawn,
    so one wide prior does not squash the other panels.
    """
    frames, outside = [], {}
    for label, idata in prior_predictives.items():
        values = idata.prior_predictive[var_name].to_numpy().ravel()
        inside = (values >= limits[0]) & (values <= limits[1])
        outside[label] = 1 - inside.mean()
        frames.append(pd.DataFrame({"logfc": values[inside], "prior": label}))
    simulated = pd.concat(frames, ignore_index=True)
    simulated["prior"] = pd.Categorical(simulated["prior"], categories=list(prior_predictives))
    shares = "; ".join(f"{label}: {share:.0%}" for label, share in outside.items())
    return (
        gg.ggplot(simulated, gg.aes(x="logfc"))
        + gg.geom_histogram(gg.aes(y=gg.after_stat("density")), bins=80, fill=POSTERIOR, alpha=0.6)
        + gg.geom_density(
            data=pd.DataFrame({"logfc": np.asarray(observed, dtype=float)}),
            color=OBSERVED,
            size=1,
        )
        + gg.facet_wrap("prior", ncol=1)
        + gg.labs(
            x="logFC",
            y="density",
            title="Prior predictive logFC under each scale prior",
            caption=f"blue: prior predictive; black: observed data; beyond {limits}: {shares}",
        )
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


def plot_gene_level_regression(
    idata: xr.DataTree, gene_expression: pd.Series, truth: dict, num_lines: int = 100
) -> gg.ggplot:
    """Gene intercepts against the gene-level predictor, with the fitted regression.

    Blue: each gene's posterior mean and 94 % HDI of ``alpha``; thin lines:
    posterior draws of ``mu_gamma + delta * x``; red: true intercepts and
    (dashed) the true regression line.
    """
    alpha = az.extract(idata, var_names=["alpha"])
    hdi = az.hdi(idata, var_names=["alpha"], prob=HDI_PROB)["alpha"]
    genes = [str(g) for g in alpha["gene"].values]
    x = gene_expression.reindex(genes).to_numpy(dtype=float)
    points = pd.DataFrame(
        {
            "x": x,
            "mean": alpha.mean("sample").to_numpy(),
            "low": hdi.sel(ci_bound="lower").to_numpy(),
            "high": hdi.sel(ci_bound="upper").to_numpy(),
            "true": truth["alpha"].reindex(genes).to_numpy(),
        }
    )
    lines = az.extract(idata, var_names=["mu_gamma", "delta"])
    picked = _evenly_spaced(lines.sizes["sample"], num_lines)
    draws = pd.DataFrame(
        {
            "intercept": lines["mu_gamma"].to_numpy()[picked],
            "slope": lines["delta"].to_numpy()[picked],
        }
    )
    return (
        gg.ggplot(points, gg.aes(x="x"))
        + gg.geom_abline(
            gg.aes(intercept="intercept", slope="slope"), data=draws, color=POSTERIOR, alpha=0.08
        )
        + gg.geom_abline(
            intercept=truth["mu_gamma"], slope=truth["delta"], linetype=TRUE_LINE, color=TRUTH
        )
        + gg.geom_errorbar(gg.aes(ymin="low", ymax="high"), width=0.05, color=POSTERIOR)
        + gg.geom_point(gg.aes(y="mean"), color=POSTERIOR, size=2.5)
        + gg.geom_point(gg.aes(y="true"), color=TRUTH, shape="x", size=4)
        + gg.labs(
            x="gene's typical expression (gene-level predictor)",
            y="gene intercept alpha",
            title="The gene-level regression",
            caption=f"blue: posterior mean, 94 % HDI and {len(picked)} regression lines; "
            "red: truth",
        )
        + theme_crispr()
    )


def plot_rank_ecdf_difference(
    differences: pd.DataFrame, band: pd.DataFrame, title: str
) -> gg.ggplot:
    """SBC ranks: each parameter's ECDF minus the uniform CDF, in its band.

    ``differences`` from :func:`crispr_models.calibration.rank_ecdf_differences`
    (one line per scalar, a panel per variable) and ``band`` from
    :func:`~crispr_models.calibration.rank_ecdf_band`. A calibrated model's
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

    ``table`` from :func:`crispr_models.benchmark.run_benchmark`, one row per
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


def plot_shrinkage(table: pd.DataFrame, centre: float, title: str) -> gg.ggplot:
    """Each group's raw estimate (open) joined to its partially pooled one
    (blue), against its size; the truth in red where known, the population
    mean ``centre`` dashed. Small groups are pulled furthest."""
    group = table.columns[0]
    segments = table.assign(size=table["size"].astype(float))
    plot = (
        gg.ggplot(segments, gg.aes(x="size"))
        + gg.geom_hline(yintercept=centre, linetype=TRUE_LINE, color=BAND)
        + gg.geom_segment(gg.aes(xend="size", y="raw", yend="pooled"), color=BAND)
        + gg.geom_point(gg.aes(y="raw"), shape="o", fill="none", color=OBSERVED, size=2.5)
        + gg.geom_point(gg.aes(y="pooled"), color=POSTERIOR, size=2.5)
        + gg.labs(
            x=f"size of the {group.replace('_', ' ')} (sgRNAs or rows)",
            y="effect",
            title=title,
            caption="open: raw mean of the group's logFC; blue: partially pooled "
            "(posterior mean); dashed: population mean"
            + ("; red: true value" if "true_value" in table else ""),
        )
        + theme_crispr()
    )
    if "true_value" in table:
        plot = plot + gg.geom_point(gg.aes(y="true_value"), shape="x", color=TRUTH, size=3)
    return plot


def _copy_number_colours(levels: pd.Series) -> pd.Categorical:
    """Copy-number levels as ordered labels, the top one pooled ("8+")."""
    present = sorted(levels.unique())
    labels = [copy_number_label(c) for c in present]
    return pd.Categorical(levels.map(dict(zip(present, labels, strict=True))), labels, ordered=True)


def plot_along_genome(table: pd.DataFrame, title: str) -> gg.ggplot:
    """Gene scores along each chromosome, coloured by copy number.

    ``table``: one row per gene and method with ``chr``, ``position`` (base
    pairs), ``copy_number`` (the model's levels), ``score`` and ``method``;
    one row of panels per method, chromosomes side by side.
    """
    table = table.assign(
        megabases=table["position"] / 1e6,
        copy_number=_copy_number_colours(table["copy_number"]),
        chr=pd.Categorical(table["chr"], [c for c in CHROMOSOMES if c in set(table["chr"])]),
    )
    return (
        gg.ggplot(table, gg.aes(x="megabases", y="score", colour="copy_number"))
        + gg.geom_hline(yintercept=0, colour="grey")
        + gg.geom_point(size=0.3, alpha=0.6, stroke=0)
        + gg.facet_grid("method ~ chr", scales="free_x", space="free_x")
        + gg.scale_colour_brewer(type="div", palette="RdYlBu", direction=-1)
        + gg.labs(
            x="position (Mb) by chromosome", y="log2 fold change", colour="copies", title=title
        )
        + theme_crispr(base_size=9)
        + gg.theme(
            figure_size=(11, 5),
            axis_text_x=gg.element_blank(),
            panel_spacing_x=0.002,
            strip_text_x=gg.element_text(size=6),
        )
        + gg.guides(colour=gg.guide_legend(override_aes={"size": 3, "alpha": 1}))
    )


def plot_scores_by_copy_number(table: pd.DataFrame, title: str) -> gg.ggplot:
    """Boxplots of gene scores by copy number, one panel per method
    (``table`` from :func:`crispr_models.screen_analysis.by_copy_number`)."""
    table = table.assign(copy_number=_copy_number_colours(table["copy_number"]))
    return (
        gg.ggplot(table, gg.aes(x="copy_number", y="score"))
        + gg.geom_hline(yintercept=0, colour="grey")
        + gg.geom_boxplot(outlier_size=0.3, outlier_alpha=0.3, colour=POSTERIOR)
        + gg.facet_wrap("method", nrow=1)
        + gg.coord_cartesian(ylim=(-3, 1.5))
        + gg.labs(
            x="copy number",
            y="gene log2 fold change",
            title=title,
            caption="boxes: quartiles; y axis cut at -3",
        )
        + theme_crispr()
    )


def plot_essentiality_curves(curves: pd.DataFrame, title: str) -> gg.ggplot:
    """ROC and precision-recall curves by method (``curves`` from
    :func:`crispr_models.screen_scoring.essentiality_curves`)."""
    axes = {"ROC": ("false-positive rate", "true-positive rate"), "PR": ("recall", "precision")}
    curves = curves.assign(
        curve=pd.Categorical(
            curves["curve"].map(lambda c: f"{c}: {axes[c][1]} against {axes[c][0]}"),
            [f"{c}: {y} against {x}" for c, (x, y) in axes.items()],
        )
    )
    return (
        gg.ggplot(curves, gg.aes(x="x", y="y", colour="method"))
        + gg.geom_path(size=0.8)
        + gg.facet_wrap("curve", nrow=1)
        + gg.labs(x="", y="", colour="", title=title)
        + theme_crispr()
        + gg.theme(figure_size=(9, 4), legend_position="bottom")
    )


def plot_copy_number_effects(table: pd.DataFrame, title: str) -> gg.ggplot:
    """The fitted copy-number effect (mean and 94 % interval) at each copy
    number, one colour per model (``table``: ``model``, ``copy_number``,
    ``mean``, ``lower``, ``upper``)."""
    dodge = gg.position_dodge(width=0.4)
    return (
        gg.ggplot(table, gg.aes(x="copy_number", y="mean", colour="model"))
        + gg.geom_hline(yintercept=0, colour="grey")
        + gg.geom_pointrange(gg.aes(ymin="lower", ymax="upper"), position=dodge)
        + gg.labs(
            x="copy number",
            y="effect on log2 fold change",
            colour="",
            title=title,
            caption="point: posterior mean; bar: 94 % interval; 0 at 2 copies",
        )
        + theme_crispr()
        # an amplicon's level is labelled with its place
        + gg.theme(axis_text_x=gg.element_text(rotation=30, ha="right"))
    )


def plot_fit_costs(table: pd.DataFrame, title: str) -> gg.ggplot:
    """Seconds each fit took against the genes it covered, one colour per
    method, log scales (``table``: ``method``, ``genes``, ``seconds``)."""
    return (
        gg.ggplot(table, gg.aes(x="genes", y="seconds", colour="method"))
        + gg.geom_point(size=3)
        + gg.scale_x_log10()
        + gg.scale_y_log10()
        + gg.labs(x="genes fitted", y="seconds (compile + fit)", colour="", title=title)
        + theme_crispr()
    )


def plot_replicate_noise(table: pd.DataFrame, excess_cv: float, title: str) -> gg.ggplot:
    r"""The counts' excess variance per read between replicates against the
    count, one panel per grouping (``table`` from
    :func:`crispr_models.screen_analysis.replicate_noise`, both groupings):
    flat where the variance is proportional to the mean. The dashed line is
    what one negative-binomial dispersion with coefficient of variation
    ``excess_cv`` implies, :math:`c^2 \mu`."""
    table = table.assign(
        by=table["by"].map({"abundance": "bins of abundance", "depletion": "bins of depletion"})
    )
    counts = np.geomspace(table["count"].min(), table["count"].max(), 50)
    line = pd.DataFrame({"count": counts, "variance_to_mean": excess_cv**2 * counts})
    return (
        gg.ggplot(table, gg.aes(x="count", y="variance_to_mean"))
        + gg.geom_line(data=line, linetype=TRUE_LINE, colour=POSTERIOR)
        + gg.geom_point(gg.aes(colour="log2_fold_change"), size=3)
        + gg.facet_wrap("by", nrow=1)
        + gg.scale_x_log10()
        + gg.scale_y_log10()
        + gg.scale_colour_gradient2(low=TRUTH, mid="#dddddd", high=POSTERIOR, midpoint=0)
        + gg.labs(
            x="median count of the bin's replicate pairs",
            y="variance beyond Poisson's, per read",
            colour="median log2\nfold change",
            title=title,
            caption=f"dashed: one negative-binomial dispersion, extra-Poisson CV {excess_cv:.2f}",
        )
        + theme_crispr()
        + gg.theme(figure_size=(9, 4))
    )


def plot_separation(table: pd.DataFrame, title: str) -> gg.ggplot:
    """ROC and PR AUC with their 95 % bootstrap intervals, by method, one
    panel per metric and reference set (``table`` from
    :func:`crispr_models.screen_scoring.bootstrap_separation` with a
    ``reference`` column)."""
    metric_names = {"roc_auc": "ROC AUC", "pr_auc": "PR AUC"}
    table = table.assign(
        metric=table["metric"].map(metric_names),
        method=pd.Categorical(table["method"], list(dict.fromkeys(table["method"]))[::-1]),
    )
    return (
        gg.ggplot(table, gg.aes(y="method", x="estimate"))
        + gg.geom_errorbarh(gg.aes(xmin="lower", xmax="upper"), height=0.2, colour=POSTERIOR)
        + gg.geom_point(colour=POSTERIOR, size=2)
        + gg.facet_grid("reference ~ metric", scales="free_x")
        + gg.labs(x="", y="", title=title, caption="bars: 95 % paired bootstrap intervals")
        + theme_crispr()
        + gg.theme(figure_size=(9, 4.5))
    )


def plot_amplicon_ranks(table: pd.DataFrame, title: str) -> gg.ggplot:
    """The median depletion percentile of each amplicon's passenger genes,
    by method (``table`` from :func:`crispr_models.screen_scoring.amplicon_ranks`):
    0.5 where copy number does not bias the method; the band is 0.25-0.75."""
    table = table.assign(
        method=pd.Categorical(table["method"], list(dict.fromkeys(table["method"]))[::-1])
    )
    return (
        gg.ggplot(table, gg.aes(x="median_percentile", y="method", colour="amplicon"))
        + gg.annotate("rect", xmin=0.25, xmax=0.75, ymin=-np.inf, ymax=np.inf, fill=BAND, alpha=0.5)
        + gg.geom_vline(xintercept=0.5, colour="grey")
        + gg.geom_point(size=3, alpha=0.8, position=gg.position_jitter(height=0.15, random_state=0))
        + gg.scale_x_continuous(limits=(0, 1))
        + gg.labs(
            x="median depletion percentile of the amplicon's passenger genes (0: most depleted)",
            y="",
            colour="amplicon",
            title=title,
        )
        + theme_crispr()
        + gg.theme(figure_size=(9, 4.5))
    )


def plot_held_out_coverage(table: pd.DataFrame, probability: float, title: str) -> gg.ggplot:
    """The share of held-out replicate counts inside their central
    ``probability`` predictive interval, by bin of abundance, one colour per
    model (``table``: :func:`crispr_models.screen_analysis.held_out_coverage`'s
    rows with a ``model`` column), with two standard errors; the dashed line
    is the nominal share."""
    table = table.assign(
        low=table["coverage"] - 2 * table["se"], high=table["coverage"] + 2 * table["se"]
    )
    return (
        gg.ggplot(table, gg.aes(x="abundance", y="coverage", colour="model"))
        + gg.geom_hline(yintercept=probability, linetype=TRUE_LINE, colour="grey")
        + gg.geom_line()
        + gg.geom_pointrange(gg.aes(ymin="low", ymax="high"))
        + gg.scale_x_log10()
        + gg.labs(
            x="the guide's mean count in the other replicates",
            y=f"share inside the {probability:.0%} interval",
            colour="",
            title=title,
            caption="bars: two binomial standard errors; dashed: the nominal share",
        )
        + theme_crispr()
    )
