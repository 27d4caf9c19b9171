"""Figures of the model series: data against the truth, posteriors, recovery,
traces and pairs, shrinkage."""

from __future__ import annotations

from collections.abc import Mapping

import arviz as az
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import plotnine as gg
import xarray as xr
from matplotlib.figure import Figure

from crispr_models.checks.diagnostics import HDI_LOWER, HDI_PROB, HDI_UPPER
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

    ``draws`` comes from :func:`crispr_models.checks.diagnostics.posterior_draws`;
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
