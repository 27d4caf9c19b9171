import plotnine as gg
import pytest
from matplotlib.figure import Figure

from crispr_models.diagnostics import recovery_table
from crispr_models.plotting import (
    plot_data_with_truth,
    plot_posterior_lines,
    plot_predictive_check,
    plot_recovery,
    plot_trace,
    theme_crispr,
)


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
