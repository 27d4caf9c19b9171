"""Grouped K-fold by cell line: the exact predictive density and the folds."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy.stats import multivariate_normal

from crispr_models.checks.cross_validation import (
    GroupedCrossValidation,
    block_normal_logpdf,
    cell_line_folds,
    grouped_kfold_by_cell_line,
    new_cell_line_log_density,
)
from crispr_models.series.models import (
    additive_gene_cell_line_model,
    gene_by_cell_line_model,
    sgrna_cell_line_model,
)


def test_block_density_is_the_multivariate_normal_it_stands_for():
    rng = np.random.default_rng(0)
    residuals = rng.normal(size=(3, 7))
    blocks = np.array([0, 0, 1, 1, 1, 2, 0])
    sigma, tau = np.array([0.5, 1.0, 2.0]), np.array([0.3, 0.0, 1.5])
    shared = np.eye(3)[blocks]
    expected = [
        multivariate_normal(np.zeros(7), s**2 * np.eye(7) + t**2 * shared @ shared.T).logpdf(r)
        for r, s, t in zip(residuals, sigma, tau, strict=True)
    ]
    np.testing.assert_allclose(block_normal_logpdf(residuals, blocks, sigma, tau), expected)


def _posterior(**variables) -> xr.DataTree:
    """A one-chain posterior from arrays whose first axis is the draw."""
    data = {}
    for name, (values, dims, coords) in variables.items():
        values = np.asarray(values, dtype=float)
        data[name] = xr.DataArray(values[None, ...], dims=("chain", "draw", *dims), coords=coords)
    return xr.DataTree.from_dict({"posterior": xr.Dataset(data)})


def test_a_new_cell_line_under_7a_draws_a_new_intercept_per_gene():
    held_out = pd.DataFrame(
        {"gene": ["g1", "g1", "g2"], "cell_line": ["c9"] * 3, "logfc": [-1.0, -1.2, 0.3]}
    )
    idata = _posterior(
        mu_alpha=([-0.5, -0.4], (), {}),
        sigma_alpha=([0.8, 0.6], (), {}),
        sigma=([0.3, 0.4], (), {}),
    )
    got = new_cell_line_log_density(gene_by_cell_line_model, idata, held_out)
    same_gene = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1]])
    per_draw = [
        multivariate_normal(np.full(3, m), s**2 * np.eye(3) + t**2 * same_gene).logpdf(
            held_out["logfc"]
        )
        for m, t, s in [(-0.5, 0.8, 0.3), (-0.4, 0.6, 0.4)]
    ]
    assert got["c9"] == pytest.approx(np.log(np.mean(np.exp(per_draw))))


def test_a_new_cell_line_under_the_hierarchical_model_shares_one_shift():
    held_out = pd.DataFrame(
        {"sgrna": ["s1", "s2"], "cell_line": ["c9", "c9"], "logfc": [-1.0, 0.5]}
    )
    idata = _posterior(
        alpha=([[-0.9, 0.4]], ("sgrna",), {"sgrna": ["s1", "s2"]}),
        sigma_beta=([1.0], (), {}),
        sigma=([0.2], (), {}),
        beta=([[0.5, -0.5, 0.0, 0.0]], ("cell_line",), {"cell_line": list("abcd")}),
    )
    got = new_cell_line_log_density(sgrna_cell_line_model, idata, held_out)
    # a new line's shift relative to 4 zero-sum trained lines: variance 1 + 1/4
    covariance = 0.2**2 * np.eye(2) + 1.25 * np.ones((2, 2))
    expected = multivariate_normal([-0.9, 0.4], covariance).logpdf(held_out["logfc"])
    assert got["c9"] == pytest.approx(expected)


def test_folds_deal_every_cell_line_once():
    lines = [f"cell_{i:02d}" for i in range(1, 11)]
    folds = cell_line_folds(lines, 3, np.random.default_rng(1))
    assert sorted(c for fold in folds for c in fold) == lines
    assert sorted(len(f) for f in folds) == [3, 3, 4]
    assert folds == cell_line_folds(lines, 3, np.random.default_rng(1))
    with pytest.raises(ValueError, match="folds must be from 2"):
        cell_line_folds(lines, 11, np.random.default_rng(1))


def test_models_without_a_new_cell_line_prediction_are_refused_before_fitting():
    data = pd.DataFrame({"gene": ["g"], "cell_line": ["c"], "logfc": [0.0]})
    with pytest.raises(ValueError, match="no new-cell-line prediction for 7c"):
        grouped_kfold_by_cell_line({"7c": additive_gene_cell_line_model}, data, 1, None)


def test_the_table_compares_with_the_best_model():
    scores = pd.DataFrame({"a": [-1.0, -2.0, -3.0], "b": [-2.0, -2.5, -4.0]})
    refits = pd.DataFrame({"converged": [True, False]})
    table = GroupedCrossValidation(scores, [["x"]], refits).table().set_index("model")
    assert table.loc["a", "elpd_diff"] == 0.0
    assert table.loc["b", "elpd_diff"] == pytest.approx(-2.5)
    assert table.loc["b", "dse"] == pytest.approx(np.sqrt(3) * np.std([-1, -0.5, -1], ddof=1))
    assert not GroupedCrossValidation(scores, [["x"]], refits).all_converged
