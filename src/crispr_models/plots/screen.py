"""Figures of a real screen: the noise, the genome, copy number, the field's
tools, the calls."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotnine as gg

from crispr_models.plots.base import BAND, POSTERIOR, TRUE_LINE, TRUTH, theme_crispr
from crispr_models.screen.data import CHROMOSOMES
from crispr_models.screen.model import copy_number_label


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
    (``table`` from :func:`crispr_models.screen.analysis.by_copy_number`)."""
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
    :func:`crispr_models.screen.scoring.essentiality_curves`)."""
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
    :func:`crispr_models.screen.analysis.replicate_noise`, both groupings):
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
    :func:`crispr_models.screen.scoring.bootstrap_separation` with a
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
    by method (``table`` from :func:`crispr_models.screen.scoring.amplicon_ranks`):
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
    model (``table``: :func:`crispr_models.screen.analysis.held_out_coverage`'s
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
