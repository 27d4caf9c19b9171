"""Figures the notebooks share. Every function returns a figure (a plotnine
``ggplot`` or a matplotlib ``Figure``); none shows or saves it."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import plotnine as gg
from matplotlib.figure import Figure

TRUE_LINE = "dashed"


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
    return gg.labs(
        x="RNA expression (z-score)", y="logFC", color="gene", title=title, caption=caption
    )


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
    idata: az.InferenceData,
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
            color="black",
        )
        + _rna_labels(title, caption=f"{len(picked)} posterior draws; dashed black: true line")
        + theme_crispr()
    )
    if len(genes) > 1:
        plot = plot + gg.facet_wrap("gene") + gg.guides(color="none")
    return plot


def plot_predictive_check(
    idata: az.InferenceData,
    group: str = "posterior_predictive",
    var_name: str = "logfc",
    num_draws: int = 50,
) -> gg.ggplot:
    """Density of simulated datasets (thin lines) against the observed data (thick)."""
    if group not in ("prior_predictive", "posterior_predictive"):
        raise ValueError(
            f"group must be 'prior_predictive' or 'posterior_predictive', got {group!r}"
        )
    stacked = az.extract(idata, group=group, var_names=[var_name])
    picked = _evenly_spaced(stacked.sizes["sample"], num_draws)
    simulated = pd.concat(
        [
            pd.DataFrame({"logfc": stacked.isel(sample=i).values.ravel(), "draw": k})
            for k, i in enumerate(picked)
        ],
        ignore_index=True,
    )
    observed = pd.DataFrame({"logfc": idata.observed_data[var_name].values.ravel()})
    label = "Prior" if group == "prior_predictive" else "Posterior"
    return (
        gg.ggplot(simulated, gg.aes(x="logfc"))
        + gg.stat_density(gg.aes(group="draw"), geom="line", color="#3b75af", alpha=0.25)
        + gg.stat_density(data=observed, geom="line", color="black", size=1.2)
        + gg.labs(
            x="logFC",
            y="density",
            title=f"{label} predictive check",
            caption=f"blue: {len(picked)} simulated data sets; black: observed",
        )
        + theme_crispr()
    )


def plot_recovery(table: pd.DataFrame, title: str = "Posterior against the truth") -> gg.ggplot:
    """Forest plot: posterior mean and 94 % HDI per parameter, true value as a cross."""
    data = table.assign(
        parameter=pd.Categorical(table["parameter"], categories=table["parameter"][::-1]),
        covered=table["hdi_covers_truth"].map({True: "yes", False: "no"}).fillna("no truth"),
    )
    return (
        gg.ggplot(data, gg.aes(y="parameter"))
        + gg.geom_errorbarh(gg.aes(xmin="hdi_3%", xmax="hdi_97%"), height=0.3, color="#3b75af")
        + gg.geom_point(gg.aes(x="mean"), color="#3b75af", size=2)
        + gg.geom_point(gg.aes(x="true_value", shape="covered"), color="#c0392b", size=3)
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


def plot_trace(idata: az.InferenceData, var_names: list[str]) -> Figure:
    """ArviZ trace plot drawn on a fresh matplotlib Figure (not pyplot's)."""
    figure = Figure(figsize=(10, 2.2 * len(var_names)), layout="constrained")
    axes = figure.subplots(len(var_names), 2, squeeze=False)
    az.plot_trace(idata, var_names=var_names, axes=axes, compact=True)
    return figure
