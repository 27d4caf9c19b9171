import numpy as np
import pandas as pd
import plotnine as gg
import pytest
from matplotlib.figure import Figure

from crispr_models.checks.diagnostics import posterior_draws, recovery_table
from crispr_models.core.fitting import sample_prior_predictive
from crispr_models.plots.base import theme_crispr
from crispr_models.plots.checks import (
    plot_benchmark,
    plot_efficiency,
    plot_loo_pit,
    plot_predictive_check,
)
from crispr_models.plots.series import (
    plot_data_with_truth,
    plot_observations,
    plot_pair,
    plot_posterior_lines,
    plot_prior_predictive_comparison,
    plot_recovery,
    plot_shrinkage,
    plot_trace,
)
from crispr_models.series.models import multigene_rna_model


def _drawn(plot: gg.ggplot) -> Figure:
    figure = plot.draw()
    assert isinstance(figure, Figure)
    return figure


def test_data_plot_draws_one_true_line_per_gene(multigene_data):
    plot = plot_data_with_truth(multigene_data.observations, multigene_data.truth)
    assert isinstance(plot, gg.ggplot)
    _drawn(plot)
    true_lines = plot.layers[1].geom.data
    assert len(true_lines) == 5


def test_data_plot_handles_a_single_gene_with_scalar_truth(single_gene_data):
    plot = plot_data_with_truth(single_gene_data.observations, single_gene_data.truth)
    _drawn(plot)


def test_posterior_lines_are_deterministic_and_faceted(multigene_fit, multigene_data):
    first = plot_posterior_lines(
        multigene_fit, multigene_data.observations, multigene_data.truth, num_lines=20
    )
    again = plot_posterior_lines(
        multigene_fit, multigene_data.observations, multigene_data.truth, num_lines=20
    )
    assert first.layers[0].geom.data.equals(again.layers[0].geom.data)
    assert len(first.layers[0].geom.data) == 20 * 5
    assert isinstance(first.facet, gg.facet_wrap)
    _drawn(first)


@pytest.mark.parametrize("group", ["prior_predictive", "posterior_predictive"])
def test_predictive_checks_draw(multigene_fit, group):
    plot = plot_predictive_check(multigene_fit, group=group, num_draws=10)
    assert plot.data["draw"].nunique() == 10
    _drawn(plot)


def test_predictive_check_refuses_an_unknown_group(multigene_fit):
    with pytest.raises(ValueError, match="group"):
        plot_predictive_check(multigene_fit, group="posterior")


def test_recovery_and_trace_return_figures(multigene_fit, multigene_data):
    table = recovery_table(multigene_fit, multigene_data.truth, "m")
    _drawn(plot_recovery(table))
    figure = plot_trace(multigene_fit, ["alpha", "sigma"])
    assert isinstance(figure, Figure)
    assert len(figure.axes) == 4


def test_theme_is_a_plotnine_theme():
    assert isinstance(theme_crispr(), gg.theme)


def test_observations_plot_facets_and_refuses_unknown_columns(multigene_data):
    plot = plot_observations(multigene_data.observations, "rna", "t", facet="gene")
    assert isinstance(plot.facet, gg.facet_wrap)
    _drawn(plot)
    with pytest.raises(ValueError, match="cna"):
        plot_observations(multigene_data.observations, "cna", "t")


def test_observations_plot_labels_its_axis_and_hides_cell_line_names(multigene_data):
    by_rna = plot_observations(multigene_data.observations, "rna", "t")
    assert by_rna.labels.x == "RNA expression (z-score)"
    by_cell_line = plot_observations(multigene_data.observations, "cell_line", "t")
    assert by_cell_line.labels.x == "cell line"
    assert by_cell_line.theme.themeables["axis_text_x"].properties["visible"] is False
    _drawn(by_cell_line)


def test_pair_plot_reports_the_correlation(multigene_fit):
    draws = posterior_draws(multigene_fit, ["mu_alpha", "alpha[gene_A]"])
    plot = plot_pair(
        draws, "mu_alpha", "alpha[gene_A]", "t", truth={"mu_alpha": -1.0, "alpha[gene_A]": -2.2}
    )
    expected = np.corrcoef(draws["mu_alpha"], draws["alpha[gene_A]"])[0, 1]
    assert f"{expected:+.2f}" in plot.labels.caption
    assert len(plot.layers) == 2
    _drawn(plot)
    unknown = plot_pair(draws, "mu_alpha", "alpha[gene_A]", "t", truth={"mu_alpha": -1.0})
    assert len(unknown.layers) == 1 and "true values" not in unknown.labels.caption


def test_prior_predictive_comparison_counts_what_it_leaves_out(multigene_data):
    model = multigene_rna_model(multigene_data.observations)
    prior = sample_prior_predictive(model, np.random.default_rng(0), draws=20)
    plot = plot_prior_predictive_comparison(
        {"a": prior, "b": prior}, multigene_data.observations["logfc"], limits=(-1.0, 1.0)
    )
    values = prior.prior_predictive["logfc"].to_numpy().ravel()
    outside = 1 - ((values >= -1) & (values <= 1)).mean()
    assert f"a: {outside:.0%}" in plot.labels.caption
    assert plot.data["logfc"].between(-1, 1).all()
    _drawn(plot)


def test_efficiency_plot_shows_the_median_and_range_of_repeats_and_sums_divergences():
    table = pd.DataFrame(
        {
            "scenario": ["x"] * 6,
            "parameterization": ["centred"] * 3 + ["non-centred"] * 3,
            "ess_per_second": [10.0, 12.0, 30.0, 20.0, 21.0, 22.0],
            "divergences": [3, 0, 1, 0, 0, 0],
        }
    )
    plot = plot_efficiency(table, "t")
    assert list(plot.data["label"]) == ["4 div.", "0 div."]
    assert list(plot.data["median"]) == [12.0, 21.0]
    assert list(plot.data["low"]) == [10.0, 20.0]
    assert list(plot.data["high"]) == [30.0, 22.0]
    _drawn(plot)


def test_benchmark_plot_draws_every_repeat():
    table = pd.DataFrame(
        {
            "chapter": ["m2"] * 4,
            "sampler": ["nutpie", "nutpie", "pymc", "pymc"],
            "ess_per_second_sampling": [100.0, 120.0, 10.0, 12.0],
            "ess_per_second_total": [10.0, 11.0, 5.0, 6.0],
        }
    )
    plot = plot_benchmark(table, "t")
    assert len(plot.data) == 8  # two measures of four fits
    _drawn(plot)


def test_loo_pit_plot_marks_the_uniform_count():
    pit = pd.DataFrame({"fit": ["a"] * 100 + ["b"] * 50, "loo_pit": np.linspace(0, 1, 150)})
    plot = plot_loo_pit(pit, "t", bins=10)
    expected = plot.layers[1].geom.data.set_index("fit")["expected"]
    assert expected.to_dict() == {"a": 10.0, "b": 5.0}
    _drawn(plot)


def test_shrinkage_plot_joins_raw_and_pooled_and_marks_the_truth():
    table = pd.DataFrame(
        {
            "gene": ["gene_A", "gene_B"],
            "size": [1, 10],
            "raw": [-2.0, -1.0],
            "pooled": [-1.5, -1.0],
            "pooled_sd": [0.2, 0.1],
            "true_value": [-1.6, -1.1],
        }
    )
    plot = plot_shrinkage(table, centre=-1.2, title="t")
    assert "red: true value" in plot.labels.caption
    assert len(plot.layers) == 5  # centre, segments, raw, pooled, truth
    _drawn(plot)
    assert len(plot_shrinkage(table.drop(columns="true_value"), -1.2, "t").layers) == 4
